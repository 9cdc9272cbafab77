import type * as grpc from "@grpc/grpc-js";
import * as grpcJs from "@grpc/grpc-js";
import { encodeNames, encodeNode, encodeSotwRequest, fastAdsClient, TYPE } from "@isthmus/xds";

// N simulated proxies for bench/xds, in their own process: raw ADS streams spread over a
// few HTTP/2 connections, each subscribed to the endpoints of S services; every response
// is ACKed at once. Reports when the initial state arrived everywhere.
interface Msg {
  address: string;
  n: number;
  clusters: string[];
  mode: "sotw" | "delta";
  /** HTTP/2 connections to spread the proxies over (default: one per 500 proxies). */
  connections?: number;
}

process.once("message", (m: Msg) => {
  const CONNECTIONS = m.connections ?? Math.max(1, Math.ceil(m.n / 500));
  // A subchannel pool per client: otherwise grpc-js shares one connection among all of them.
  const clients = Array.from({ length: CONNECTIONS }, () =>
    fastAdsClient(m.address, grpcJs.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
  );
  // Like Envoy, a SotW proxy repeats its names in every ACK: encoded once here, as Envoy's C++ would cost next to nothing.
  const names = encodeNames(m.clusters);
  let initial = 0;
  const streams: grpc.ClientDuplexStream<unknown, unknown>[] = [];
  for (let i = 0; i < m.n; i++) {
    const client = clients[i % CONNECTIONS] as ReturnType<typeof fastAdsClient>;
    const node = { id: `sidecar~10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}~proxy-${i}.bench~bench.svc.cluster.local` };
    const call = m.mode === "delta" ? client.DeltaAggregatedResources() : client.StreamAggregatedResources();
    let first = true;
    call.on("data", (r: { type_url: string; nonce: string; version_info?: string }) => {
      if (first) {
        first = false;
        if (++initial === m.n) process.send?.({ initialDone: true });
      }
      call.write(
        m.mode === "delta"
          ? { type_url: r.type_url, response_nonce: r.nonce }
          : encodeSotwRequest({ type_url: r.type_url, version_info: r.version_info ?? "", names, response_nonce: r.nonce }),
      );
    });
    call.on("error", () => {});
    if (m.mode === "delta") call.write({ node, type_url: TYPE.endpoint, resource_names_subscribe: m.clusters, initial_resource_versions: {} });
    else call.write(encodeSotwRequest({ node: encodeNode(node), type_url: TYPE.endpoint, names }));
    streams.push(call);
  }
  process.on("message", (cmd: { stop?: boolean; cpu?: boolean }) => {
    if (cmd.cpu) process.send?.({ cpu: process.cpuUsage() });
    if (cmd.stop) {
      for (const s of streams) s.cancel();
      for (const c of clients) c.close();
      process.exit(0);
    }
  });
});
