import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCaCertificate, generateKey, LeafTemplate, parseCertificate, spkiDer, toPem } from "@isthmus/pki";

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/**
 * A test root and a serving certificate for localhost / 127.0.0.1 from it, written as the files
 * the Helm chart's `tls.enabled` mounts (tls.crt, tls.key, ca.crt) in a fresh directory.
 */
export async function testTlsFiles(uri = "spiffe://cluster.local/ns/isthmus-system/sa/test"): Promise<TlsFiles> {
  const dir = mkdtempSync(join(tmpdir(), "isthmus-tls-"));
  const files = { cert: join(dir, "tls.crt"), key: join(dir, "tls.key"), ca: join(dir, "ca.crt") };
  const root = generateKey("ec-p256");
  const rootDer = await createCaCertificate({ subject: [["CN", "Isthmus Test Root"]], publicKey: root.publicKey, selfKey: root.privateKey, ttlMs: 3_600_000 });
  const server = generateKey("ec-p256");
  const now = Date.now();
  const leaf = await new LeafTemplate(parseCertificate(rootDer), root.privateKey).issue({
    spki: spkiDer(server.publicKey),
    uri,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    rsa: false,
    dnsNames: ["localhost"],
    ips: ["127.0.0.1"],
  });
  writeFileSync(files.cert, toPem(leaf.der));
  writeFileSync(files.key, server.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  writeFileSync(files.ca, toPem(rootDer));
  return files;
}
