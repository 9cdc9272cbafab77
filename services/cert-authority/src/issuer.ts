import { CsrError, fromPem, LeafTemplate, PemError, parseCertificate, spiffeId, toPem } from "@isthmus/pki";
import type { ActiveIssuer } from "./adapters/ca-store.js";
import type { CryptoPool } from "./adapters/crypto-pool.js";
import type { Ledger } from "./adapters/ledger.js";
import { CaError } from "./domain/errors.js";
import type { ProvenIdentity } from "./domain/identity.js";
import { type ValidityPolicy, validityWindow } from "./domain/validity.js";

export const MAX_CSR_BYTES = 16 * 1024;

export interface IssueRequest {
  csrPem: string;
  validitySeconds: number;
  identity: ProvenIdentity;
}

/** From a verified CSR and a proven identity to a recorded certificate chain. */
export class CertificateIssuer {
  private current: { template: LeafTemplate; chainPem: string[]; serial: string; notAfter: Date } | undefined;

  constructor(
    private readonly trustDomain: string,
    private readonly validity: ValidityPolicy,
    private readonly ledger: Ledger,
    private readonly crypto: CryptoPool,
  ) {}

  /** Switch to an issuing certificate (at start and on rotation); in-flight issues finish on the old one. */
  use(issuer: ActiveIssuer): void {
    const [caDer] = issuer.chain;
    if (!caDer) throw new Error("empty issuer chain");
    this.current = {
      template: new LeafTemplate(parseCertificate(caDer), issuer.key),
      chainPem: issuer.chain.map((d) => toPem(d)),
      serial: issuer.serial,
      notAfter: issuer.notAfter,
    };
    this.crypto.setIssuer(issuer.serial, caDer, issuer.key);
  }

  get issuerSerial(): string | undefined {
    return this.current?.serial;
  }

  get chain(): string[] {
    return this.current?.chainPem ?? [];
  }

  /** A serving certificate for the CA's own listener: DNS names and IPs, not a workload, not in the ledger. */
  async issueServing(spki: Uint8Array, o: { uri: string; dnsNames: string[]; ips: string[]; ttlMs: number }): Promise<string[]> {
    const cur = this.current;
    if (!cur) throw new CaError("FAILED_PRECONDITION", "this certificate authority has no issuing certificate yet");
    const now = Date.now();
    const { der } = await cur.template.issue({
      spki,
      uri: o.uri,
      notBefore: new Date(now - this.validity.backdateMs),
      notAfter: new Date(Math.min(now + o.ttlMs, cur.notAfter.getTime())),
      rsa: false,
      dnsNames: o.dnsNames,
      ips: o.ips,
    });
    return [toPem(der), ...cur.chainPem];
  }

  async issue(r: IssueRequest): Promise<string[]> {
    try {
      return await this.issueFor(r);
    } catch (err) {
      await r.identity.giveBack?.().catch(() => {});
      throw err;
    }
  }

  private async issueFor(r: IssueRequest): Promise<string[]> {
    const cur = this.current;
    if (!cur) throw new CaError("FAILED_PRECONDITION", "this certificate authority has no issuing certificate yet");
    if (Buffer.byteLength(r.csrPem) > MAX_CSR_BYTES) throw new CaError("INVALID_ARGUMENT", `CSR larger than ${MAX_CSR_BYTES} bytes`);
    let blocks: ReturnType<typeof fromPem>;
    try {
      blocks = fromPem(r.csrPem);
    } catch (err) {
      if (err instanceof PemError) throw new CaError("INVALID_ARGUMENT", `csr: ${err.message}`);
      throw err;
    }
    const block = blocks.find((b) => b.label === "CERTIFICATE REQUEST" || b.label === "NEW CERTIFICATE REQUEST");
    if (!block) throw new CaError("INVALID_ARGUMENT", "csr must be a PEM 'CERTIFICATE REQUEST' block");
    const { notBefore, notAfter } = validityWindow(r.validitySeconds, this.validity, cur.notAfter, { renewsLifetimeMs: r.identity.renewsLifetimeMs });
    // The SAN comes from the proven identity; whatever the CSR asked for is ignored.
    const uri = spiffeId({ trustDomain: this.trustDomain, namespace: r.identity.namespace, serviceAccount: r.identity.serviceAccount });
    let issued: { der: Buffer; serialHex: string };
    try {
      issued = await this.crypto.sign({ issuerId: cur.serial, csrDer: block.der, uri, notBefore, notAfter });
    } catch (err) {
      if (err instanceof CsrError) throw new CaError("INVALID_ARGUMENT", err.message);
      throw err;
    }
    const { der, serialHex } = issued;
    await this.ledger.record({
      serial: serialHex,
      spiffeId: uri,
      notBefore,
      notAfter,
      requester: r.identity.via,
      cluster: r.identity.cluster,
      issuerSerial: cur.serial,
    });
    return [toPem(der), ...cur.chainPem];
  }
}
