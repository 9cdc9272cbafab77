import { createHash, type KeyObject, randomBytes, sign, X509Certificate } from "node:crypto";
import { bitString, children, content, expectTag, explicit, type Node, parseOne, readOid, seq, smallInt, TAG, time, uint, whole } from "./der.js";
import { authorityKeyId, basicConstraints, extKeyUsage, keyUsageExtension, type NameAttr, sanExtension, subjectKeyId, x501Name } from "./extensions.js";
import { type SignatureScheme, signatureScheme, spkiDer } from "./keys.js";
import { OID } from "./oids.js";

/** What the issuing side needs to know of a certificate, read straight from its DER. */
export interface CertificateInfo {
  der: Buffer;
  serialHex: string;
  issuer: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  subjectKeyId: Uint8Array | undefined;
}

export function parseCertificate(der: Buffer): CertificateInfo {
  const [tbs] = children(expectTag(parseOne(der), TAG.SEQUENCE, "Certificate"));
  const f = children(expectTag(tbs, TAG.SEQUENCE, "TBSCertificate"));
  let i = f[0]?.tag === 0xa0 ? 1 : 0;
  const serial = expectTag(f[i++], TAG.INTEGER, "serial");
  i++; // signature algorithm
  const issuer = expectTag(f[i++], TAG.SEQUENCE, "issuer");
  i++; // validity
  const subject = expectTag(f[i++], TAG.SEQUENCE, "subject");
  const spki = expectTag(f[i++], TAG.SEQUENCE, "subjectPublicKeyInfo");
  let ski: Uint8Array | undefined;
  const extsWrapper = f.find((n) => n.tag === 0xa3);
  if (extsWrapper) {
    for (const ext of children(expectTag(children(extsWrapper)[0], TAG.SEQUENCE, "extensions"))) {
      const parts = children(ext);
      if (readOid(parts[0] as Node) === OID.subjectKeyId) {
        ski = content(parseOne(content(parts[parts.length - 1] as Node)));
      }
    }
  }
  return {
    der,
    serialHex: Buffer.from(content(serial))
      .toString("hex")
      .replace(/^00(?=[89a-f])/, ""),
    issuer: whole(issuer),
    subject: whole(subject),
    spki: whole(spki),
    subjectKeyId: ski,
  };
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdOf(spki: Uint8Array): Buffer {
  const bits = children(parseOne(spki))[1] as Node;
  return createHash("sha1").update(content(bits).subarray(1)).digest();
}

/** 128 random bits, top bit clear: positive and at least 64 bits of entropy (CA/B rules). */
export function randomSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x40;
  return b;
}

export function signCertificate(tbs: Buffer, scheme: SignatureScheme, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(scheme.hash, tbs, key, (err, sig) => (err ? reject(err) : resolve(seq(tbs, scheme.algorithm, bitString(sig)))));
  });
}

export interface CaCertOptions {
  subject: Array<[NameAttr, string]>;
  /** The key the certificate is for. */
  publicKey: KeyObject;
  notBefore?: Date;
  ttlMs: number;
  /** Issuer; absent for a self-signed root. */
  issuer?: { cert: CertificateInfo; key: KeyObject };
  /** Signing key when self-signed. */
  selfKey?: KeyObject;
  pathLen?: number;
}

/** A CA certificate: a self-signed root, or an intermediate signed by `issuer`. */
export async function createCaCertificate(o: CaCertOptions): Promise<Buffer> {
  const signer = o.issuer?.key ?? o.selfKey;
  if (!signer) throw new Error("a CA certificate needs an issuer or a self-signing key");
  const scheme = signatureScheme(signer);
  const spki = spkiDer(o.publicKey);
  const subject = x501Name(o.subject);
  const notBefore = new Date((o.notBefore ?? new Date()).getTime() - 60_000);
  const ski = keyIdOf(spki);
  const exts = [basicConstraints(true, o.pathLen), keyUsageExtension(["digitalSignature", "keyCertSign", "cRLSign"]), subjectKeyId(ski)];
  const aki = o.issuer ? (o.issuer.cert.subjectKeyId ?? keyIdOf(o.issuer.cert.spki)) : ski;
  exts.push(authorityKeyId(aki));
  const tbs = seq(
    explicit(0, smallInt(2)),
    uint(randomSerial()),
    scheme.algorithm,
    o.issuer ? Buffer.from(o.issuer.cert.subject) : subject,
    seq(time(notBefore), time(new Date(notBefore.getTime() + o.ttlMs))),
    subject,
    spki,
    explicit(3, seq(...exts)),
  );
  return signCertificate(tbs, scheme, signer);
}

export interface LeafRequest {
  spki: Uint8Array;
  uri: string;
  notBefore: Date;
  notAfter: Date;
  /** RSA subject keys also get keyEncipherment. */
  rsa: boolean;
  /** Serving certificates (the CA's own, gateways) also carry DNS names and IPs. */
  dnsNames?: string[];
  ips?: string[];
}

/**
 * Issues X.509-SVIDs from one CA key. Everything constant is encoded once here; per
 * certificate only serial, validity, key and SAN are written, then signed on the
 * threadpool. Empty subject, so the SAN is critical (RFC 5280 4.2.1.6).
 */
export class LeafTemplate {
  readonly scheme: SignatureScheme;
  private readonly issuer: Buffer;
  private readonly version = explicit(0, smallInt(2));
  private readonly emptySubject = seq();
  private readonly constantExts: Buffer;
  private readonly constantExtsRsa: Buffer;

  constructor(
    readonly ca: CertificateInfo,
    private readonly key: KeyObject,
  ) {
    this.scheme = signatureScheme(key);
    this.issuer = Buffer.from(ca.subject);
    const aki = authorityKeyId(ca.subjectKeyId ?? keyIdOf(ca.spki));
    const common = [basicConstraints(false), extKeyUsage(OID.serverAuth, OID.clientAuth), aki];
    this.constantExts = Buffer.concat([keyUsageExtension(["digitalSignature"]), ...common]);
    this.constantExtsRsa = Buffer.concat([keyUsageExtension(["digitalSignature", "keyEncipherment"]), ...common]);
  }

  async issue(r: LeafRequest): Promise<{ der: Buffer; serialHex: string }> {
    const { tbs, serial } = this.tbs(r);
    return { der: await signCertificate(tbs, this.scheme, this.key), serialHex: serial.toString("hex") };
  }

  /** The same on the calling thread: for worker threads, which are the parallelism themselves. */
  issueSync(r: LeafRequest): { der: Buffer; serialHex: string } {
    const { tbs, serial } = this.tbs(r);
    return { der: seq(tbs, this.scheme.algorithm, bitString(sign(this.scheme.hash, tbs, this.key))), serialHex: serial.toString("hex") };
  }

  private tbs(r: LeafRequest): { tbs: Buffer; serial: Buffer } {
    const serial = randomSerial();
    const tbs = seq(
      this.version,
      uint(serial),
      this.scheme.algorithm,
      this.issuer,
      seq(time(r.notBefore), time(r.notAfter)),
      this.emptySubject,
      r.spki,
      explicit(
        3,
        seq(
          r.rsa ? this.constantExtsRsa : this.constantExts,
          sanExtension(r.dnsNames || r.ips ? { uris: [r.uri], dnsNames: r.dnsNames ?? [], ips: r.ips ?? [] } : [r.uri], true),
        ),
      ),
    );
    return { tbs, serial };
  }
}

/** Node's own parser over our bytes: the authority on what a certificate says. */
export function x509(der: Uint8Array | string): X509Certificate {
  return new X509Certificate(typeof der === "string" ? der : Buffer.from(der));
}
