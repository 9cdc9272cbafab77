import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { BusLogger } from "@isthmus/bus";
import { CaError, type CaStatus } from "../domain/errors.js";
import type { CertificateIssuer } from "../issuer.js";
import type { Authenticator } from "./authenticator.js";
import type { TlsMaterial } from "./tls-material.js";

const PROTO = fileURLToPath(new URL("../../proto/istio/v1/auth/ca.proto", import.meta.url));

export function loadCaProto(): grpc.GrpcObject {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  return grpc.loadPackageDefinition(def);
}

export function caServiceDefinition(): grpc.ServiceDefinition {
  const pkg = loadCaProto() as unknown as { istio: { v1: { auth: { IstioCertificateService: grpc.ServiceClientConstructor } } } };
  return pkg.istio.v1.auth.IstioCertificateService.service;
}

export const STATUS: Record<CaStatus, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  INTERNAL: grpc.status.INTERNAL,
};

/** The largest request accepted; bigger ones are RESOURCE_EXHAUSTED before they are read. */
export const MAX_REQUEST_BYTES = 64 * 1024;

interface CreateCertificateRequest {
  csr: string;
  validity_duration: number;
}

export async function startGrpcServer(o: {
  issuer: CertificateIssuer;
  auth: Authenticator;
  host: string;
  port: number;
  /** Serving identity and client roots; client certificates are requested, not required (tokens work too). */
  tls?: TlsMaterial | undefined;
  log: BusLogger;
  onIssued?: () => void;
}): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_REQUEST_BYTES });
  server.addService(caServiceDefinition(), {
    CreateCertificate: (call: grpc.ServerUnaryCall<CreateCertificateRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const md = call.metadata;
      const auth = String(md.get("authorization")[0] ?? "");
      const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
      const clusterId = md.get("clusterid")[0]?.toString();
      const peer = call.getAuthContext?.()?.sslPeerCertificate as { raw?: Buffer } | undefined;
      o.auth
        .authenticate({ bearer, clusterId, peerCertificate: peer?.raw })
        .then((identity) => o.issuer.issue({ csrPem: call.request.csr, validitySeconds: Number(call.request.validity_duration ?? 0), identity }))
        .then(
          (chain) => {
            o.onIssued?.();
            callback(null, { cert_chain: chain });
          },
          (err: unknown) => {
            if (err instanceof CaError) {
              o.log.info({ status: err.status, reason: err.message, peer: call.getPeer() }, "certificate request refused");
              callback({ code: STATUS[err.status], details: err.message });
            } else {
              o.log.error({ err, peer: call.getPeer() }, "certificate request failed");
              callback({ code: grpc.status.INTERNAL, details: "internal error" });
            }
          },
        );
    },
  });
  const creds = o.tls ? grpc.experimental.createCertificateProviderServerCredentials(o.tls, o.tls, false) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${o.host}:${o.port}`, creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 5_000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
