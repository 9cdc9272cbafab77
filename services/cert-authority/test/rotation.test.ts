import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { certsFromPem, toPem, x509 } from "@isthmus/pki";
import { createTestDatabase, KubeApiStandIn, type TestDatabase, uniqueMeshId, waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalKeyProvider, type RunningCa, startCertAuthority } from "../src/index.js";
import { CaClient, mtls, tlsIdentity, workload } from "./harness.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const cliMain = fileURLToPath(new URL("../../../cli/src/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "isthmus-rotation-"));
const rootKek = randomBytes(32).toString("base64");
const meshKek = randomBytes(32).toString("base64");
const mesh = uniqueMeshId("rot");
let db: TestDatabase;
let api: KubeApiStandIn;
let ca: RunningCa | undefined;

/** Run the real `isthmus` CLI, as an operator would. */
function isthmus(...args: string[]): string {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", cliMain, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ISTHMUS_ROOT_KEK: rootKek, CA_KEK: meshKek, DATABASE_URL: db.url },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`isthmus ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  db = await createTestDatabase();
  api = new KubeApiStandIn("cluster-1");
  await api.start();
});
afterAll(async () => {
  await ca?.stop();
  await api.stop();
  await db.drop();
});

describe("root rotation A -> A+B -> issue from B -> B only, driven by the CLI", () => {
  it("keeps old and new workloads talking during the overlap and refuses the old root after", async () => {
    const rootA = join(work, "root-a");
    const rootB = join(work, "root-b");
    expect(isthmus("ca", "init-root", "--dir", rootA)).toMatch(/root created/);
    expect(isthmus("ca", "create-intermediate", "--mesh", mesh, "--root-dir", rootA)).toMatch(/installed as the issuer/);

    ca = await startCertAuthority({
      mesh,
      trustDomain: "cluster.local",
      databaseUrl: db.url,
      keys: new LocalKeyProvider(Buffer.from(meshKek, "base64")),
      grpcHost: "127.0.0.1",
      grpcPort: 0,
      grpcTls: true,
      serverNames: ["localhost"],
      audiences: ["istio-ca"],
      clusters: [{ id: "cluster-1", access: { kubeconfig: api.kubeconfig() } }],
    });
    const running = ca;
    const rootAPem = readFileSync(join(rootA, "root-cert.pem"), "utf8");
    const issue = async () => {
      const w = workload();
      // The client trusts both roots whatever phase the mesh is in: this test is about the mesh's bundle.
      const roots = [rootA, rootB].filter((d) => existsSync(join(d, "root-cert.pem"))).map((d) => readFileSync(join(d, "root-cert.pem"), "utf8"));
      const client = new CaClient(`localhost:${running.grpcPort}`, roots.join(""));
      const chain = await client.create({
        csr: w.csrPem,
        token: api.issueServiceAccountToken({ namespace: "default", serviceAccount: "app" }),
        clusterId: "cluster-1",
      });
      client.close();
      return { w, chain };
    };
    const oldWorkload = await issue();
    expect(oldWorkload.chain.at(-1)).toBe(toPem(certsFromPem(rootAPem)[0]!));

    // Phase 1: trust A and B.
    isthmus("ca", "init-root", "--dir", rootB);
    const rootBPem = readFileSync(join(rootB, "root-cert.pem"), "utf8");
    expect(isthmus("ca", "trust", "add", "--mesh", mesh, "--root", join(rootB, "root-cert.pem"))).toMatch(/root added/);
    await waitFor(async () => (await running.bundle()).length === 2, 10_000, "bundle A+B");

    // Phase 2: issue from B.
    isthmus("ca", "create-intermediate", "--mesh", mesh, "--root-dir", rootB);
    await waitFor(
      async () => {
        await running.reload();
        const { chain } = await issue();
        return chain.at(-1) === toPem(certsFromPem(rootBPem)[0]!);
      },
      10_000,
      "issuing from B",
    );
    const newWorkload = await issue();
    expect(x509(newWorkload.chain[1]!).verify(x509(rootBPem).publicKey)).toBe(true);

    const overlap = await running.bundle();
    const oldId = tlsIdentity(oldWorkload.w, oldWorkload.chain, overlap);
    const newId = tlsIdentity(newWorkload.w, newWorkload.chain, overlap);
    expect(await mtls(oldId, newId)).toBe("ok");
    expect(await mtls(newId, oldId)).toBe("ok");

    // The root that signs the active intermediate cannot be dropped by mistake.
    expect(() => isthmus("ca", "trust", "remove", "--mesh", mesh, "--root", join(rootB, "root-cert.pem"))).toThrow(/signs the active intermediate/);

    // Phase 3: B only.
    expect(isthmus("ca", "trust", "remove", "--mesh", mesh, "--root", join(rootA, "root-cert.pem"))).toMatch(/root removed/);
    await waitFor(async () => (await running.bundle()).length === 1, 10_000, "bundle B only");
    const after = await running.bundle();
    expect(after).toEqual([toPem(certsFromPem(rootBPem)[0]!)]);
    const renewed = await issue();
    const newOnly = tlsIdentity(renewed.w, renewed.chain, after);
    expect(await mtls(newOnly, tlsIdentity(oldWorkload.w, oldWorkload.chain, overlap))).toBe("refused");
    expect(await mtls(newOnly, tlsIdentity(newWorkload.w, newWorkload.chain, after))).toBe("ok");
  }, 180_000); // a dozen CLI runs through tsx: over a minute on a loaded 2-core machine
});
