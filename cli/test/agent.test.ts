import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { experimental } from "@grpc/grpc-js";
import { x509 } from "@isthmus/pki";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeshCa, makeRoot, startMeshCa } from "../../services/cert-authority/test/harness.js";
import { AGENT_FILES, agentRound } from "../src/commands/agent.js";

let m: MeshCa;
beforeAll(async () => {
  m = await startMeshCa(await makeRoot(), { bus: false });
});
afterAll(() => m.stop());

describe("isthmus agent", () => {
  it("writes key, chain and roots that gRPC's file_watcher provider loads, and renews with its certificate alone", async () => {
    const out = mkdtempSync(join(tmpdir(), "agent-"));
    const roots = join(out, "ca-roots.pem");
    writeFileSync(roots, (await m.ca.bundle()).join(""));
    const token = m.api.issueServiceAccountToken({ namespace: "default", serviceAccount: "sleep" });
    const first = await agentRound({ caAddress: `localhost:${m.ca.grpcPort}`, caRoots: roots, out, token, clusterId: "cluster-1", keyAlg: "ec-p256" });
    expect(first.spiffeId).toBe("spiffe://cluster.local/ns/default/sa/sleep");
    expect(first.renewAt.getTime()).toBeLessThan(first.notAfter.getTime());
    const key1 = readFileSync(join(out, AGENT_FILES.key), "utf8");
    expect(x509(readFileSync(join(out, AGENT_FILES.chain), "utf8")).checkPrivateKey((await import("node:crypto")).createPrivateKey(key1))).toBe(true);

    // gRPC's own file_watcher provider reads the three files as they are.
    const provider = new experimental.FileWatcherCertificateProvider({
      certificateFile: join(out, AGENT_FILES.chain),
      privateKeyFile: join(out, AGENT_FILES.key),
      caCertificateFile: join(out, AGENT_FILES.roots),
      refreshIntervalMs: 60_000,
    });
    const identity = await new Promise<{ certificate: Buffer } | null>((resolve) => provider.addIdentityCertificateListener(resolve));
    expect(identity?.certificate.toString()).toContain("BEGIN CERTIFICATE");

    // No token this time: renewal proves the identity with the current certificate.
    const second = await agentRound({ caAddress: `localhost:${m.ca.grpcPort}`, caRoots: roots, out, clusterId: "cluster-1", keyAlg: "ec-p256" });
    expect(second.spiffeId).toBe(first.spiffeId);
    expect(readFileSync(join(out, AGENT_FILES.key), "utf8")).not.toBe(key1); // a fresh key each round
  });

  it("says why when the CA refuses", async () => {
    const out = mkdtempSync(join(tmpdir(), "agent-"));
    const roots = join(out, "ca-roots.pem");
    writeFileSync(roots, (await m.ca.bundle()).join(""));
    await expect(
      agentRound({ caAddress: `localhost:${m.ca.grpcPort}`, caRoots: roots, out, token: "forged", clusterId: "cluster-1", keyAlg: "ec-p256" }),
    ).rejects.toThrow(/the CA refused: token rejected by cluster cluster-1/);
  });
});
