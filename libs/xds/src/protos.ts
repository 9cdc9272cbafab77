import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";

// The Envoy/xDS protos shipped with @grpc/grpc-js-xds: the same definitions the real
// client decodes with, so server and client never disagree on a field.
const depsDir = join(dirname(createRequire(import.meta.url).resolve("@grpc/grpc-js-xds/package.json")), "deps");
export const PROTO_INCLUDE_DIRS = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(depsDir, d));

const FILES = [
  "envoy/service/discovery/v3/ads.proto",
  "envoy/config/listener/v3/listener.proto",
  "envoy/config/route/v3/route.proto",
  "envoy/config/cluster/v3/cluster.proto",
  "envoy/config/endpoint/v3/endpoint.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/filters/http/fault/v3/fault.proto",
  "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto",
  "envoy/extensions/filters/listener/original_dst/v3/original_dst.proto",
  "envoy/extensions/transport_sockets/tls/v3/tls.proto",
  "envoy/extensions/transport_sockets/tls/v3/secret.proto",
  "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto",
  "envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto",
  "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto",
  "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto",
  "envoy/extensions/filters/http/cors/v3/cors.proto",
  "envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
];

let root: protobuf.Root | undefined;

/** One protobufjs root with every xDS message, for encoding resources. */
export function xdsRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    for (const dir of PROTO_INCLUDE_DIRS) {
      const p = join(dir, target);
      if (existsSync(p)) return p;
    }
    return target;
  };
  r.loadSync(FILES, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

function adsConstructor(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync("envoy/service/discovery/v3/ads.proto", {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: PROTO_INCLUDE_DIRS,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
  };
  return pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
}

/** The ADS gRPC service (StreamAggregatedResources, DeltaAggregatedResources). */
export function adsServiceDefinition(): grpc.ServiceDefinition {
  return adsConstructor().service;
}

export type AdsClient = grpc.Client & {
  StreamAggregatedResources(): grpc.ClientDuplexStream<unknown, unknown>;
  DeltaAggregatedResources(): grpc.ClientDuplexStream<unknown, unknown>;
};

/** A raw ADS client, for tools and benchmarks that speak xDS directly (as Envoy does). */
export function adsClient(address: string, creds = grpc.credentials.createInsecure()): AdsClient {
  const Ctor = adsConstructor();
  return new Ctor(address, creds) as unknown as AdsClient;
}

export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

/** Encode a message as google.protobuf.Any. Validates against the schema first. */
export function toAny(typeName: string, message: Record<string, unknown>): AnyMessage {
  const t = xdsRoot().lookupType(typeName);
  const m = t.fromObject(message);
  const err = t.verify(m);
  if (err) throw new Error(`${typeName}: ${err}`);
  return { type_url: `type.googleapis.com/${typeName}`, value: Buffer.from(t.encode(m).finish()) };
}

export function fromAny(any: AnyMessage): Record<string, unknown> {
  const name = any.type_url.replace(/^type\.googleapis\.com\//, "");
  const t = xdsRoot().lookupType(name);
  return t.toObject(t.decode(any.value), { enums: String, longs: String, defaults: false }) as Record<string, unknown>;
}
