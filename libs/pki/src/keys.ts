import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { nul, oid, seq } from "./der.js";
import { OID } from "./oids.js";

export const KEY_ALGORITHMS = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export function generateKey(alg: KeyAlgorithm = "ec-p256"): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case "ec-p256":
      return generateKeyPairSync("ec", { namedCurve: "P-256" });
    case "ec-p384":
      return generateKeyPairSync("ec", { namedCurve: "P-384" });
    default:
      return generateKeyPairSync("rsa", { modulusLength: Number(alg.slice(4)) });
  }
}

export interface SignatureScheme {
  /** AlgorithmIdentifier DER for the certificate/CSR. */
  algorithm: Buffer;
  hash: "sha256" | "sha384";
  isRsa: boolean;
}

/** How a key signs certificates: ECDSA with the curve's hash, RSA PKCS#1 v1.5 with SHA-256. */
export function signatureScheme(key: KeyObject): SignatureScheme {
  const type = key.asymmetricKeyType;
  if (type === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return { algorithm: seq(oid(OID.ecdsaSha256)), hash: "sha256", isRsa: false };
    if (curve === "secp384r1") return { algorithm: seq(oid(OID.ecdsaSha384)), hash: "sha384", isRsa: false };
    throw new Error(`unsupported EC curve ${curve}`);
  }
  if (type === "rsa") return { algorithm: seq(oid(OID.rsaSha256), nul()), hash: "sha256", isRsa: true };
  throw new Error(`unsupported key type ${type}`);
}

export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return pub.export({ type: "spki", format: "der" });
}

export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  return key.asymmetricKeyType === "rsa" ? `RSA ${d?.modulusLength}` : `EC ${d?.namedCurve}`;
}
