import { createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { bitString, children, content, DerError, expectTag, explicit, type Node, oid, parseOne, readOid, seq, set, smallInt, TAG, whole } from "./der.js";
import { sanExtension } from "./extensions.js";
import { signatureScheme, spkiDer } from "./keys.js";
import { OID } from "./oids.js";

/** Why a CSR is refused; `code` lets the gRPC layer pick a status. */
export class CsrError extends Error {
  override name = "CsrError";
  constructor(
    readonly code: "malformed" | "signature" | "weak-key" | "unsupported-algorithm",
    message: string,
  ) {
    super(message);
  }
}

export interface PublicKeyInfo {
  /** SubjectPublicKeyInfo DER, copied as is into the certificate. */
  spki: Uint8Array;
  kind: "ec" | "rsa";
  curve?: "P-256" | "P-384";
  rsaBits?: number;
  /** EC: the uncompressed point (04 || X || Y). */
  point?: Uint8Array;
}

export interface ParsedCsr {
  /** CertificationRequestInfo DER: what the signature covers. */
  info: Uint8Array;
  key: PublicKeyInfo;
  signatureAlgorithm: string;
  signature: Uint8Array;
}

export const MIN_RSA_BITS = 2048;

function bitsOf(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i] as number));
}

export function parseSpki(n: Node): PublicKeyInfo {
  const [alg, bits] = children(n);
  const algParts = children(expectTag(alg, TAG.SEQUENCE, "public key algorithm"));
  const algOid = readOid(expectTag(algParts[0], TAG.OID, "public key algorithm"));
  const keyBits = content(expectTag(bits, TAG.BIT_STRING, "public key")).subarray(1);
  if (algOid === OID.ecPublicKey) {
    const curveOid = readOid(expectTag(algParts[1], TAG.OID, "EC curve"));
    const curve = curveOid === OID.p256 ? "P-256" : curveOid === OID.p384 ? "P-384" : undefined;
    if (!curve) throw new CsrError("unsupported-algorithm", `unsupported EC curve ${curveOid}: use P-256 or P-384`);
    const size = curve === "P-256" ? 32 : 48;
    if (keyBits.length !== 1 + 2 * size || keyBits[0] !== 4) throw new CsrError("malformed", "EC public key is not an uncompressed point of its curve");
    return { spki: whole(n), kind: "ec", curve, point: keyBits };
  }
  if (algOid === OID.rsaEncryption) {
    const rsa = children(parseOne(keyBits));
    const modulus = content(expectTag(rsa[0], TAG.INTEGER, "RSA modulus"));
    const rsaBits = bitsOf(modulus);
    if (rsaBits < MIN_RSA_BITS) throw new CsrError("weak-key", `RSA key of ${rsaBits} bits is too weak: at least ${MIN_RSA_BITS} required`);
    return { spki: whole(n), kind: "rsa", rsaBits };
  }
  if (algOid === OID.ed25519) throw new CsrError("unsupported-algorithm", "Ed25519 keys are not supported: use ECDSA P-256/P-384 or RSA");
  throw new CsrError("unsupported-algorithm", `unsupported public key algorithm ${algOid}`);
}

/** Parse a PKCS#10 request (DER). Throws CsrError saying what is wrong. */
export function parseCsr(der: Uint8Array): ParsedCsr {
  try {
    const top = children(expectTag(parseOne(der), TAG.SEQUENCE, "CertificationRequest"));
    if (top.length !== 3) throw new CsrError("malformed", "CertificationRequest must have 3 parts");
    const info = expectTag(top[0], TAG.SEQUENCE, "CertificationRequestInfo");
    const [version, , spki] = children(info);
    const v = content(expectTag(version, TAG.INTEGER, "version"));
    if (v.length !== 1 || v[0] !== 0) throw new CsrError("malformed", "CSR version must be 1 (0)");
    const key = parseSpki(expectTag(spki, TAG.SEQUENCE, "SubjectPublicKeyInfo"));
    const sigAlg = readOid(expectTag(children(expectTag(top[1], TAG.SEQUENCE, "signature algorithm"))[0], TAG.OID, "signature algorithm"));
    const signature = content(expectTag(top[2], TAG.BIT_STRING, "signature")).subarray(1);
    return { info: whole(info), key, signatureAlgorithm: sigAlg, signature };
  } catch (err) {
    if (err instanceof CsrError) throw err;
    if (err instanceof DerError) throw new CsrError("malformed", `CSR is not valid DER: ${err.message}`);
    throw new CsrError("malformed", `CSR cannot be parsed: ${(err as Error).message}`);
  }
}

const HASH_OF: Record<string, { hash: string; kind: "ec" | "rsa" }> = {
  [OID.ecdsaSha256]: { hash: "sha256", kind: "ec" },
  [OID.ecdsaSha384]: { hash: "sha384", kind: "ec" },
  [OID.rsaSha256]: { hash: "sha256", kind: "rsa" },
  [OID.rsaSha384]: { hash: "sha384", kind: "rsa" },
  [OID.rsaSha512]: { hash: "sha512", kind: "rsa" },
};

/** The public key as a KeyObject; EC keys go through JWK, the cheapest import in Node. */
export function publicKeyObject(k: PublicKeyInfo): KeyObject {
  if (k.kind === "ec" && k.point) {
    const size = (k.point.length - 1) / 2;
    const x = Buffer.from(k.point.subarray(1, 1 + size)).toString("base64url");
    const y = Buffer.from(k.point.subarray(1 + size)).toString("base64url");
    return createPublicKey({ key: { kty: "EC", crv: k.curve as string, x, y }, format: "jwk" });
  }
  return createPublicKey({ key: Buffer.from(k.spki), format: "der", type: "spki" });
}

/** The hash and key a CSR's signature is checked with; throws CsrError when they cannot be had. */
function proofOfPossession(csr: ParsedCsr): { hash: string; key: KeyObject } {
  const scheme = HASH_OF[csr.signatureAlgorithm];
  if (!scheme) throw new CsrError("unsupported-algorithm", `unsupported CSR signature algorithm ${csr.signatureAlgorithm}`);
  if (scheme.kind !== csr.key.kind) throw new CsrError("malformed", "CSR signature algorithm does not match its key type");
  try {
    return { hash: scheme.hash, key: publicKeyObject(csr.key) };
  } catch (err) {
    throw new CsrError("malformed", `CSR public key is invalid: ${(err as Error).message}`);
  }
}

const notVerified = () => new CsrError("signature", "CSR signature does not verify: the request was altered or not signed by its key");

/** Check the CSR's self-signature (proof of possession) on the libuv threadpool. */
export function verifyCsr(csr: ParsedCsr): Promise<void> {
  let p: ReturnType<typeof proofOfPossession>;
  try {
    p = proofOfPossession(csr);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    verify(p.hash, csr.info, p.key, csr.signature, (err, ok) => (err || !ok ? reject(notVerified()) : resolve()));
  });
}

/** The same check on the calling thread: for worker threads, which are the parallelism themselves. */
export function verifyCsrSync(csr: ParsedCsr): void {
  const p = proofOfPossession(csr);
  let ok = false;
  try {
    ok = verify(p.hash, csr.info, p.key, csr.signature);
  } catch {
    // a signature that is not even DER: the same answer as one that does not verify
  }
  if (!ok) throw notVerified();
}

/** Build a CSR signed by `privateKey`; optional URI SANs go in an extensionRequest. */
export function createCsr(privateKey: KeyObject, opts: { uris?: string[] } = {}): Buffer {
  const scheme = signatureScheme(privateKey);
  const attrs = opts.uris?.length ? [seq(oid(OID.extensionRequest), set(seq(sanExtension(opts.uris, false))))] : [];
  const info = seq(smallInt(0), seq(), spkiDer(privateKey), explicit(0, ...attrs));
  const sig = sign(scheme.hash, info, privateKey);
  return seq(info, scheme.algorithm, bitString(sig));
}
