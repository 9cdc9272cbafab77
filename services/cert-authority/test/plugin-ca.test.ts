import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCaCertificate, generateKey, parseCertificate, toPem, x509 } from "@isthmus/pki";
import { createTestDatabase, KubeApiStandIn } from "@isthmus/testing";
import { describe, expect, it } from "vitest";
import { startCertAuthority } from "../src/index.js";
import { CaClient, kek, workload } from "./harness.js";

describe("Istio plug-in CA files", () => {
  it("are imported at start (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem) and issued from", async () => {
    // What `istioctl`-style tooling or openssl leaves in a cacerts directory.
    const r = generateKey("ec-p384");
    const rootDer = await createCaCertificate({
      subject: [
        ["O", "Corp"],
        ["CN", "Corp Root"],
      ],
      publicKey: r.publicKey,
      selfKey: r.privateKey,
      ttlMs: 86_400_000 * 30,
    });
    const i = generateKey("ec-p256");
    const caDer = await createCaCertificate({
      subject: [
        ["O", "Corp"],
        ["CN", "cluster-1 CA"],
      ],
      publicKey: i.publicKey,
      issuer: { cert: parseCertificate(rootDer), key: r.privateKey },
      ttlMs: 86_400_000 * 7,
      pathLen: 0,
    });
    const dir = mkdtempSync(join(tmpdir(), "cacerts-"));
    writeFileSync(join(dir, "ca-cert.pem"), toPem(caDer));
    writeFileSync(join(dir, "ca-key.pem"), i.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
    writeFileSync(join(dir, "cert-chain.pem"), toPem(caDer) + toPem(rootDer));
    writeFileSync(join(dir, "root-cert.pem"), toPem(rootDer));

    const db = await createTestDatabase();
    const api = new KubeApiStandIn();
    await api.start();
    const ca = await startCertAuthority({
      mesh: "plugin",
      trustDomain: "cluster.local",
      databaseUrl: db.url,
      keys: kek(),
      grpcHost: "127.0.0.1",
      grpcPort: 0,
      grpcTls: true,
      serverNames: ["localhost"],
      audiences: ["istio-ca"],
      clusters: [{ id: "cluster-1", access: { kubeconfig: api.kubeconfig() } }],
      pluginDir: dir,
    });
    try {
      expect(await ca.bundle()).toEqual([toPem(rootDer)]);
      const client = new CaClient(`localhost:${ca.grpcPort}`, toPem(rootDer));
      const chain = await client.create({
        csr: workload().csrPem,
        token: api.issueServiceAccountToken({ namespace: "a", serviceAccount: "b" }),
        clusterId: "cluster-1",
      });
      client.close();
      expect(chain.slice(1)).toEqual([toPem(caDer), toPem(rootDer)]);
      expect(x509(chain[0]!).verify(x509(caDer).publicKey)).toBe(true);
    } finally {
      await ca.stop();
      await api.stop();
      await db.drop();
    }
  });
});
