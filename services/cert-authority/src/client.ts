import * as grpc from "@grpc/grpc-js";
import { loadCaProto } from "./adapters/grpc-server.js";

export interface CaCallFailure {
  code: grpc.status;
  details: string;
}

/** A client of the Istio CreateCertificate API, as an istio-agent calls it. */
export class CaClient {
  private readonly stub: grpc.Client & { CreateCertificate: (...args: unknown[]) => void };

  /** `rootsPem` authenticates the CA; `clientCert` (key + chain PEM) proves an identity for renewal. */
  constructor(address: string, rootsPem: string, clientCert?: { key: string; chain: string }) {
    const Ctor = (loadCaProto() as unknown as { istio: { v1: { auth: { IstioCertificateService: grpc.ServiceClientConstructor } } } }).istio.v1.auth
      .IstioCertificateService;
    const creds = grpc.credentials.createSsl(
      Buffer.from(rootsPem),
      clientCert ? Buffer.from(clientCert.key) : null,
      clientCert ? Buffer.from(clientCert.chain) : null,
    );
    this.stub = new Ctor(address, creds, { "grpc.max_send_message_length": 1024 * 1024 }) as unknown as typeof this.stub;
  }

  /** Resolves with the chain (leaf first, root last); rejects with {code, details}. */
  create(req: { csr: string; validitySeconds?: number; token?: string | undefined; clusterId?: string | undefined; deadlineMs?: number }): Promise<string[]> {
    const md = new grpc.Metadata();
    if (req.token) md.set("authorization", `Bearer ${req.token}`);
    if (req.clusterId) md.set("clusterid", req.clusterId);
    return new Promise((resolve, reject) => {
      this.stub.CreateCertificate(
        { csr: req.csr, validity_duration: req.validitySeconds ?? 0 },
        md,
        { deadline: Date.now() + (req.deadlineMs ?? 10_000) },
        (err: grpc.ServiceError | null, res: { cert_chain: string[] }) =>
          err ? reject({ code: err.code, details: err.details } satisfies CaCallFailure) : resolve(res.cert_chain),
      );
    });
  }

  close(): void {
    this.stub.close();
  }
}
