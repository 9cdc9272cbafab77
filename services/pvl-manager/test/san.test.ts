import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { fileURLToPath } from "node:url";
import { createCaCertificate, generateKey, LeafTemplate, parseCertificate, spkiDer, toPem } from "@isthmus/pki";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkApiServerSan, type RunningPvlManager, startPvlManager } from "../src/index.js";
import { CLUSTER, PvlHarness, seedSpec, seedTopology } from "./harness.js";

/** A TLS server standing in for the ACK API server, with a certificate for these DNS names. */
async function apiServer(port: number, dnsNames: string[]): Promise<Server> {
  const ca = generateKey();
  const caDer = await createCaCertificate({ subject: [["CN", "kubernetes"]], publicKey: ca.publicKey, selfKey: ca.privateKey, ttlMs: 3_600_000 });
  const k = generateKey();
  const { der } = await new LeafTemplate(parseCertificate(caDer), ca.privateKey).issue({
    spki: spkiDer(k.publicKey),
    uri: "spiffe://k8s/apiserver",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    rsa: false,
    dnsNames,
  });
  const srv = createServer({ key: k.privateKey.export({ type: "pkcs8", format: "pem" }) as string, cert: toPem(der) }, (s) => s.end());
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", r));
  return srv;
}

let h: PvlHarness;
let m: RunningPvlManager;
let port: number;
beforeAll(async () => {
  const { freePort } = await import("@isthmus/testing");
  port = await freePort();
  h = new PvlHarness();
  await h.start(seedTopology(`127.0.0.1:${port}`));
  m = await startPvlManager({ mesh: h.mesh, configCluster: { kubeconfig: h.api.kubeconfig() }, provider: h.cloud, databaseUrl: h.db.url, sanCheck: true });
});
afterAll(async () => {
  await m.stop();
  await h.stop();
});

describe("API-server certificate SAN diagnostics", () => {
  it("checks a real TLS handshake: a certificate without the PrivateLink domain is flagged, one with it clears the condition", async () => {
    const wrong = await apiServer(port, ["kubernetes.default.svc", "10.0.0.1.nip.io"]);
    await h.apply(seedSpec());
    await h.until(async () => (await h.get())?.status?.conditions?.some((c) => c.reason === "ApiServerCertificateSAN") === true, 20_000, "SAN condition");
    const st = (await h.get())?.status;
    const domain = st?.clusters?.[0]?.pvlEndpoint?.domainName as string;
    expect(st?.status).toBe("Available");
    expect(st?.conditions?.[0]?.message).toContain(`does not list ${domain}`);
    expect(await checkApiServerSan(`127.0.0.1:${port}`, domain)).toMatchObject({ ok: false, sans: ["kubernetes.default.svc", "10.0.0.1.nip.io"] });

    // `isthmus pvl status` prints the diagnosis with the seed's fix.
    const kubeconfig = join(tmpdir(), `pvl-san-${h.mesh}.kubeconfig`);
    writeFileSync(kubeconfig, h.api.kubeconfig());
    const cli = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL("../../../cli/src/main.ts", import.meta.url)),
        "pvl",
        "status",
        "--kubeconfig",
        kubeconfig,
      ],
      {
        cwd: fileURLToPath(new URL("../../../", import.meta.url)),
      },
    );
    let out = "";
    cli.stdout.on("data", (b) => {
      out += b;
    });
    await new Promise((r) => cli.once("exit", r));
    expect(out).toContain("ASMPvlConfig default: Available");
    expect(out).toContain(`cluster ${CLUSTER}`);
    expect(out).toMatch(/! ApiServerCertificateSAN=False/);
    expect(out).toMatch(/fix: Add the pvlEndpoint.domainName from status.clusters to the custom SAN/);

    await new Promise<void>((r) => wrong.close(() => r()));
    const right = await apiServer(port, ["kubernetes.default.svc", domain]);
    try {
      m.kick("default");
      await h.until(async () => (await h.get())?.status?.conditions === undefined, 20_000, "SAN condition cleared");
      expect(await checkApiServerSan(`127.0.0.1:${port}`, domain)).toMatchObject({ ok: true });
    } finally {
      await new Promise<void>((r) => right.close(() => r()));
    }
  });
});
