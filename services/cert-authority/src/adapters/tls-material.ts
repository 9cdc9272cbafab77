import type { experimental } from "@grpc/grpc-js";

type Provider = experimental.CertificateProvider;
type CaListener = Parameters<Provider["addCaCertificateListener"]>[0];
type IdListener = Parameters<Provider["addIdentityCertificateListener"]>[0];

/**
 * In-memory certificate provider for grpc-js: the CA's serving identity and the roots
 * it asks client certificates to chain to, both replaceable at run time (rotation).
 */
export class TlsMaterial implements Provider {
  private readonly caListeners = new Set<CaListener>();
  private readonly idListeners = new Set<IdListener>();

  constructor(
    private roots: Buffer,
    private identity: { certificate: Buffer; privateKey: Buffer },
  ) {}

  setRoots(pem: string): void {
    this.roots = Buffer.from(pem);
    for (const l of this.caListeners) l({ caCertificate: this.roots });
  }

  setIdentity(certificate: string, privateKey: string): void {
    this.identity = { certificate: Buffer.from(certificate), privateKey: Buffer.from(privateKey) };
    for (const l of this.idListeners) l(this.identity);
  }

  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    // Later, not now: grpc-js registers its watcher only after adding the listener.
    queueMicrotask(() => l({ caCertificate: this.roots }));
  }

  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }

  addIdentityCertificateListener(l: IdListener): void {
    this.idListeners.add(l);
    queueMicrotask(() => l(this.identity));
  }

  removeIdentityCertificateListener(l: IdListener): void {
    this.idListeners.delete(l);
  }
}
