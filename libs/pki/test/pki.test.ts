import { execFileSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import {
  type CertificateInfo,
  CsrError,
  createCaCertificate,
  createCsr,
  fromPem,
  generateKey,
  LeafTemplate,
  PemError,
  parseCertificate,
  parseCsr,
  parseSpiffeId,
  spiffeId,
  toPem,
  verifyCsr,
  verifyCsrSync,
  x509,
} from "../src/index.js";

const HOUR = 3_600_000;

async function root(alg: Parameters<typeof generateKey>[0] = "ec-p256") {
  const k = generateKey(alg);
  const der = await createCaCertificate({
    subject: [
      ["O", "Isthmus"],
      ["CN", "root"],
    ],
    publicKey: k.publicKey,
    selfKey: k.privateKey,
    ttlMs: 24 * HOUR,
  });
  return { cert: parseCertificate(der), key: k.privateKey };
}

async function intermediate(parent: { cert: CertificateInfo; key: KeyObject }, name: string) {
  const k = generateKey("ec-p256");
  const der = await createCaCertificate({
    subject: [
      ["O", "Isthmus"],
      ["CN", name],
    ],
    publicKey: k.publicKey,
    issuer: parent,
    ttlMs: 12 * HOUR,
    pathLen: 0,
  });
  return { cert: parseCertificate(der), key: k.privateKey };
}

async function leaf(ca: { cert: CertificateInfo; key: KeyObject }, ns: string, sa: string) {
  const k = generateKey("ec-p256");
  const csr = parseCsr(createCsr(k.privateKey));
  await verifyCsr(csr);
  const now = new Date();
  const { der, serialHex } = await new LeafTemplate(ca.cert, ca.key).issue({
    spki: csr.key.spki,
    uri: spiffeId({ trustDomain: "cluster.local", namespace: ns, serviceAccount: sa }),
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + HOUR),
    rsa: false,
  });
  return { der, serialHex, key: k.privateKey };
}

describe("certificates", () => {
  it("issues an X.509-SVID that Node and OpenSSL read as the rules say", async () => {
    const r = await root();
    const i = await intermediate(r, "mesh-1");
    const l = await leaf(i, "default", "sleep");
    const cert = x509(l.der);
    expect(cert.subjectAltName).toBe("URI:spiffe://cluster.local/ns/default/sa/sleep");
    expect(cert.ca).toBe(false);
    expect(cert.serialNumber.toLowerCase()).toBe(l.serialHex);
    expect(l.serialHex.length).toBeGreaterThanOrEqual(16);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(cert.checkIssued(x509(i.cert.der))).toBe(true);
    expect(cert.verify(x509(i.cert.der).publicKey)).toBe(true);
    expect(x509(i.cert.der).verify(x509(r.cert.der).publicKey)).toBe(true);
    expect(x509(i.cert.der).ca).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    writeFileSync(join(dir, "root.pem"), toPem(r.cert.der));
    writeFileSync(join(dir, "int.pem"), toPem(i.cert.der));
    writeFileSync(join(dir, "leaf.pem"), toPem(l.der));
    const text = execFileSync("openssl", ["x509", "-in", join(dir, "leaf.pem"), "-noout", "-text"]).toString();
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    const verified = execFileSync("openssl", [
      "verify",
      "-CAfile",
      join(dir, "root.pem"),
      "-untrusted",
      join(dir, "int.pem"),
      "-purpose",
      "sslclient",
      join(dir, "leaf.pem"),
    ]).toString();
    expect(verified.trim()).toBe(`${join(dir, "leaf.pem")}: OK`);
  });

  it("signs with RSA and P-384 CA keys too", async () => {
    for (const alg of ["rsa-2048", "ec-p384"] as const) {
      const r = await root(alg);
      const l = await leaf(r, "a", "b");
      expect(x509(l.der).verify(x509(r.cert.der).publicKey)).toBe(true);
    }
  });

  it("two meshes under one root complete mutual TLS; an unrelated root is refused", async () => {
    const shared = await root();
    const m1 = await intermediate(shared, "mesh-1");
    const m2 = await intermediate(shared, "mesh-2");
    const other = await intermediate(await root(), "elsewhere");
    const server = await leaf(m1, "default", "helloworld");
    const good = await leaf(m2, "default", "sleep");
    const bad = await leaf(other, "default", "sleep");
    const pem = (k: KeyObject) => k.export({ type: "pkcs8", format: "pem" }) as string;
    const srv = createServer(
      { key: pem(server.key), cert: toPem(server.der) + toPem(m1.cert.der), ca: toPem(shared.cert.der), requestCert: true, rejectUnauthorized: true },
      (s) => s.end("hello"),
    );
    const refusals: string[] = [];
    srv.on("tlsClientError", (err) => refusals.push(err.message));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    const dial = (client: { der: Buffer; key: KeyObject }, chainCa: CertificateInfo) =>
      new Promise<string>((resolve, reject) => {
        const s: TLSSocket = connect({
          host: "127.0.0.1",
          port,
          key: pem(client.key),
          cert: toPem(client.der) + toPem(chainCa.der),
          ca: toPem(shared.cert.der),
          checkServerIdentity: () => undefined,
        });
        let data = "";
        s.on("data", (d) => {
          data += d;
        });
        s.on("end", () => resolve(data));
        s.on("error", reject);
      });
    expect(await dial(good, m2.cert)).toBe("hello");
    expect(await dial(bad, other.cert).catch(() => "refused")).not.toBe("hello");
    await new Promise((r) => setTimeout(r, 50));
    expect(refusals.length).toBeGreaterThan(0);
    srv.close();
  });
});

describe("CSRs", () => {
  it("parses and verifies a CSR, and refuses a tampered one", async () => {
    const k = generateKey("ec-p256");
    const der = createCsr(k.privateKey, { uris: ["spiffe://x/ns/a/sa/b"] });
    await expect(verifyCsr(parseCsr(der))).resolves.toBeUndefined();
    // A different key's CSR info under this signature: well-formed, but not signed by its key.
    const other = parseCsr(createCsr(generateKey("ec-p256").privateKey));
    const forged = { ...parseCsr(der), info: other.info, key: other.key };
    await expect(verifyCsr(forged)).rejects.toMatchObject({ code: "signature" });
    // A flipped bit inside the public key point: not a key of the curve at all.
    const broken = Buffer.from(der);
    broken[40] = (broken[40] as number) ^ 0xff;
    await expect((async () => verifyCsr(parseCsr(broken)))()).rejects.toBeInstanceOf(CsrError);
    // The calling-thread variant (worker threads) answers the same.
    expect(() => verifyCsrSync(parseCsr(der))).not.toThrow();
    expect(() => verifyCsrSync(forged)).toThrow(expect.objectContaining({ code: "signature" }));
  });

  it("issues the same certificate shape on the calling thread (issueSync)", async () => {
    const r = await root();
    const k = generateKey("ec-p256");
    const now = Date.now();
    const { der, serialHex } = new LeafTemplate(r.cert, r.key).issueSync({
      spki: parseCsr(createCsr(k.privateKey)).key.spki,
      uri: "spiffe://cluster.local/ns/a/sa/b",
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + HOUR),
      rsa: false,
    });
    const cert = x509(der);
    expect(cert.verify(x509(r.cert.der).publicKey)).toBe(true);
    expect(cert.serialNumber.toLowerCase()).toBe(serialHex);
    expect(cert.subjectAltName).toBe("URI:spiffe://cluster.local/ns/a/sa/b");
  });

  it("refuses a PEM block whose body is not base64 with a PemError", () => {
    expect(() => fromPem("-----BEGIN CERTIFICATE REQUEST-----\nno*base64!\n-----END CERTIFICATE REQUEST-----\n")).toThrow(PemError);
  });

  it("names what is wrong: garbage, weak RSA, unsupported algorithms", async () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
        return "ok";
      } catch (e) {
        return (e as CsrError).code;
      }
    };
    expect(codeOf(() => parseCsr(Buffer.from("garbage in")))).toBe("malformed");
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => parseCsr(createCsr(generateKey("rsa-2048").privateKey))).not.toThrow();
    const weakCsr = (() => {
      try {
        return createCsr(weak.privateKey);
      } catch {
        return undefined;
      }
    })();
    if (weakCsr) expect(() => parseCsr(weakCsr)).toThrow(/RSA key of 1024 bits is too weak/);
    const ed = generateKeyPairSync("ed25519");
    expect(codeOf(() => parseCsr(edCsr(ed.privateKey)))).toBe("unsupported-algorithm");
  });
});

import { sign } from "node:crypto";
// An Ed25519 CSR built by hand (createCsr refuses the key type on purpose).
import { bitString, explicit, oid, seq, smallInt } from "../src/der.js";

function edCsr(key: KeyObject): Buffer {
  const spki = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
  const info = seq(smallInt(0), seq(), spki, explicit(0));
  return seq(info, seq(oid("1.3.101.112")), bitString(sign(null, info, key)));
}

describe("SPIFFE ids", () => {
  it("builds and parses the Istio form", () => {
    const id = { trustDomain: "cluster.local", namespace: "ns-1", serviceAccount: "sa.x" };
    expect(parseSpiffeId(spiffeId(id))).toEqual(id);
    expect(parseSpiffeId("spiffe://td/ns/a/sa/b/extra")).toBeUndefined();
    expect(() => spiffeId({ ...id, namespace: "Bad_NS" })).toThrow(/invalid namespace/);
  });
});
