import { createHash, createPrivateKey, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { certsFromPem, createCaCertificate, fromPem, generateKey, type KeyAlgorithm, LeafTemplate, parseCertificate, spkiDer, toPem, x509 } from "@isthmus/pki";
import type { Store } from "@isthmus/store";
import { fingerprint, installIssuer } from "./adapters/ca-store.js";
import type { KeyProvider } from "./adapters/key-provider.js";
import { bootstrapTokens } from "./adapters/schema.js";

const DAY = 86_400_000;
export const ROOT_CERT_FILE = "root-cert.pem";
export const ROOT_KEY_FILE = "root-key.wrapped";

const rootContext = (fp: string) => `isthmus:root:${fp}`;

/**
 * A new root, kept offline in a directory: its certificate, and its key wrapped by the
 * key provider. Meshes never see this key; they get intermediates signed by it.
 */
export async function initRoot(o: {
  dir: string;
  keys: KeyProvider;
  keyAlg?: KeyAlgorithm;
  ttlDays?: number;
  organization?: string;
  commonName?: string;
}): Promise<{ certPem: string; fingerprint: string }> {
  if (existsSync(join(o.dir, ROOT_KEY_FILE))) throw new Error(`${o.dir} already holds a root; refusing to overwrite it`);
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const k = generateKey(o.keyAlg ?? "ec-p256");
  const der = await createCaCertificate({
    subject: [
      ["O", o.organization ?? "Isthmus"],
      ["CN", o.commonName ?? "Isthmus Root CA"],
    ],
    publicKey: k.publicKey,
    selfKey: k.privateKey,
    ttlMs: (o.ttlDays ?? 3650) * DAY,
  });
  const fp = fingerprint(der);
  writeFileSync(join(o.dir, ROOT_CERT_FILE), toPem(der));
  writeFileSync(join(o.dir, ROOT_KEY_FILE), await o.keys.wrap(k.privateKey.export({ type: "pkcs8", format: "der" }), rootContext(fp)), { mode: 0o600 });
  return { certPem: toPem(der), fingerprint: fp };
}

async function loadRoot(dir: string, keys: KeyProvider) {
  const der = certsFromPem(readFileSync(join(dir, ROOT_CERT_FILE), "utf8"))[0];
  if (!der) throw new Error(`no certificate in ${join(dir, ROOT_CERT_FILE)}`);
  const pkcs8 = await keys.unwrap(readFileSync(join(dir, ROOT_KEY_FILE), "utf8").trim(), rootContext(fingerprint(der)));
  return { cert: parseCertificate(der), key: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }) };
}

/**
 * Sign an intermediate for one mesh from the shared root and install it as that mesh's
 * active issuer. The mesh's CA then runs with no access to the root key.
 */
export async function createIntermediate(o: {
  mesh: string;
  trustDomain: string;
  rootDir: string;
  rootKeys: KeyProvider;
  store: Store;
  meshKeys: KeyProvider;
  keyAlg?: KeyAlgorithm;
  ttlDays?: number;
}): Promise<{ serial: string }> {
  const root = await loadRoot(o.rootDir, o.rootKeys);
  const k = generateKey(o.keyAlg ?? "ec-p256");
  const der = await createCaCertificate({
    subject: [
      ["O", "Isthmus"],
      ["CN", `Isthmus Intermediate CA ${o.mesh}`],
    ],
    publicKey: k.publicKey,
    issuer: root,
    ttlMs: (o.ttlDays ?? 365) * DAY,
    pathLen: 0,
  });
  const serial = await installIssuer(o.store, o.meshKeys, { mesh: o.mesh, trustDomain: o.trustDomain, chain: [der, root.cert.der], key: k.privateKey });
  return { serial };
}

/** Import Istio plug-in CA files: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem. */
export async function importPluginCa(o: { dir: string; mesh: string; trustDomain: string; store: Store; meshKeys: KeyProvider }): Promise<{ serial: string }> {
  const read = (f: string) => readFileSync(join(o.dir, f), "utf8");
  const caCert = certsFromPem(read("ca-cert.pem"))[0];
  const keyBlock = fromPem(read("ca-key.pem")).find((b) => /PRIVATE KEY/.test(b.label));
  if (!caCert || !keyBlock) throw new Error(`${o.dir}: ca-cert.pem and ca-key.pem must hold a certificate and its private key`);
  const key = createPrivateKey(read("ca-key.pem"));
  const chain = existsSync(join(o.dir, "cert-chain.pem")) ? certsFromPem(read("cert-chain.pem")) : [caCert];
  const root = certsFromPem(read("root-cert.pem"))[0];
  if (!root) throw new Error(`${o.dir}/root-cert.pem holds no certificate`);
  // cert-chain.pem starts with ca-cert.pem in Istio's layout; make sure the root ends it.
  const full = chain[0]?.equals(caCert) ? [...chain] : [caCert, ...chain];
  if (!full[full.length - 1]?.equals(root)) full.push(root);
  if (!x509(caCert).ca) throw new Error("ca-cert.pem is not a CA certificate");
  const serial = await installIssuer(o.store, o.meshKeys, { mesh: o.mesh, trustDomain: o.trustDomain, chain: full, key });
  return { serial };
}

export const BOOTSTRAP_PREFIX = "isthmus-bt";

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** A token for a workload outside Kubernetes: shown once, stored hashed, one ns/sa, expiring. */
export async function createBootstrapToken(store: Store, o: { namespace: string; serviceAccount: string; ttlMs: number }): Promise<string> {
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(24).toString("base64url");
  await store.db.insert(bootstrapTokens).values({
    id,
    secretHash: hashSecret(secret),
    namespace: o.namespace,
    serviceAccount: o.serviceAccount,
    expiresAt: new Date(Date.now() + o.ttlMs),
  });
  return `${BOOTSTRAP_PREFIX}.${id}.${secret}`;
}

/**
 * A serving certificate signed directly by a root — for a local development stack only
 * (`isthmus up --tls`), where the root is a development root on the same machine. Real
 * deployments get theirs from the mesh CA like any workload.
 */
export async function issueFromDevelopmentRoot(o: {
  rootDir: string;
  rootKeys: KeyProvider;
  uri: string;
  dnsNames?: string[];
  ips?: string[];
  ttlDays?: number;
}): Promise<{ certPem: string; keyPem: string; rootPem: string }> {
  const root = await loadRoot(o.rootDir, o.rootKeys);
  const k = generateKey("ec-p256");
  const now = Date.now();
  const { der } = await new LeafTemplate(root.cert, root.key).issue({
    spki: spkiDer(k.publicKey),
    uri: o.uri,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (o.ttlDays ?? 30) * 86_400_000),
    rsa: false,
    ...(o.dnsNames ? { dnsNames: o.dnsNames } : {}),
    ...(o.ips ? { ips: o.ips } : {}),
  });
  return {
    certPem: toPem(der),
    keyPem: k.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    rootPem: readFileSync(join(o.rootDir, ROOT_CERT_FILE), "utf8"),
  };
}
