import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { x509 } from "@isthmus/pki";
import { createTestDatabase, freePort, KubeApiStandIn, type TestDatabase, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createIntermediate, LocalKeyProvider, openCaStore } from "../src/index.js";
import { makeRoot, mtls, type Root } from "./harness.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const caMain = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const cliMain = fileURLToPath(new URL("../../../cli/src/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "isthmus-two-meshes-"));
const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

interface Mesh {
  id: string;
  port: number;
  api: KubeApiStandIn;
  proc: ChildProcess;
}

/** One mesh: its own database, key-encryption key, intermediate from the shared root, cluster, and CA process. */
async function startMesh(root: Root, name: string): Promise<Mesh> {
  const id = uniqueMeshId(name);
  const db: TestDatabase = await createTestDatabase();
  cleanup.push(() => db.drop());
  const kek = randomBytes(32);
  const store = await openCaStore(db.url);
  await createIntermediate({ mesh: id, trustDomain: "cluster.local", rootDir: root.dir, rootKeys: root.keys, store, meshKeys: new LocalKeyProvider(kek) });
  await store.close();
  const api = new KubeApiStandIn(`${name}-cluster`);
  await api.start();
  cleanup.push(() => api.stop());
  const kubeconfig = join(work, `${name}.kubeconfig`);
  writeFileSync(kubeconfig, api.kubeconfig());
  const clusters = join(work, `${name}.clusters.json`);
  writeFileSync(clusters, JSON.stringify([{ id: `${name}-cluster`, kubeconfigPath: kubeconfig }]));
  const port = await freePort();
  const proc = spawn(process.execPath, ["--conditions=source", "--import", "tsx", caMain], {
    cwd: repoRoot,
    env: {
      ...process.env,
      MESH_ID: id,
      DATABASE_URL: db.url,
      CA_KEK: kek.toString("base64"),
      CA_GRPC_HOST: "127.0.0.1",
      CA_GRPC_PORT: String(port),
      CA_SERVER_NAMES: "localhost",
      CA_CLUSTERS_FILE: clusters,
      NATS_URL: testNatsUrl(),
      HEALTH_PORT: "0",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanup.push(() => {
    proc.kill("SIGTERM");
  });
  let err = "";
  proc.stderr?.on("data", (b) => {
    err += b;
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on("data", (b: Buffer) => b.toString().includes("listening") && resolve());
    proc.once("exit", (code) => reject(new Error(`CA of ${name} exited (${code}): ${err}`)));
  });
  cleanup.push(async () => {
    const { Bus, meshStreamSpecs } = await import("@isthmus/bus");
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    for (const s of meshStreamSpecs(id)) await bus.jsm.streams.delete(s.name).catch(() => {});
    await bus.close();
  });
  return { id, port, api, proc };
}

/** `isthmus agent --once` for a workload of a mesh, as it would run next to the workload. */
async function agent(m: Mesh, rootPem: string, ns: string, sa: string, dir: string): Promise<{ key: string; chain: string; roots: string }> {
  const roots = join(work, "roots.pem");
  writeFileSync(roots, rootPem);
  const token = m.api.issueServiceAccountToken({ namespace: ns, serviceAccount: sa });
  // Not spawnSync: the API stand-in that reviews the token lives in this process.
  const p = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      cliMain,
      "agent",
      "--once",
      "--ca-address",
      `localhost:${m.port}`,
      "--ca-roots",
      roots,
      "--out",
      dir,
      "--token",
      token,
      "--cluster-id",
      m.api.clusterId,
    ],
    { cwd: repoRoot },
  );
  const r = { stdout: "", stderr: "", status: 0 as number | null };
  p.stdout.on("data", (b) => {
    r.stdout += b;
  });
  p.stderr.on("data", (b) => {
    r.stderr += b;
  });
  r.status = await new Promise((resolve) => p.once("exit", resolve));
  if (r.status !== 0) throw new Error(`agent failed: ${r.stderr}`);
  expect(r.stdout).toMatch(new RegExp(`certificate for spiffe://cluster.local/ns/${ns}/sa/${sa} written`));
  return {
    key: readFileSync(join(dir, "key.pem"), "utf8"),
    chain: readFileSync(join(dir, "cert-chain.pem"), "utf8"),
    roots: readFileSync(join(dir, "root-cert.pem"), "utf8"),
  };
}

describe("multi-master: two meshes, one shared root", () => {
  it("workloads of mesh-1 and mesh-2 authenticate each other; a certificate from an unrelated root is refused", async () => {
    const shared = await makeRoot();
    const [m1, m2] = await Promise.all([startMesh(shared, "mesh1"), startMesh(shared, "mesh2")]);
    const sleep = await agent(m1, shared.certPem, "default", "sleep", join(work, "sleep"));
    const helloworld = await agent(m2, shared.certPem, "default", "helloworld", join(work, "helloworld"));

    // Issued by two different intermediates, chaining to one root.
    const [sleepInter, helloInter] = [sleep, helloworld].map((w) => x509(w.chain.split(/(?=-----BEGIN CERTIFICATE-----)/)[1]!));
    expect(sleepInter!.fingerprint256).not.toBe(helloInter!.fingerprint256);
    expect(sleepInter!.verify(x509(shared.certPem).publicKey)).toBe(true);
    expect(helloInter!.verify(x509(shared.certPem).publicKey)).toBe(true);

    expect(await mtls(helloworld, sleep)).toBe("ok");
    expect(await mtls(sleep, helloworld)).toBe("ok");

    const stranger = await makeRoot();
    const m3 = await startMesh(stranger, "mesh3");
    const intruder = await agent(m3, stranger.certPem, "default", "sleep", join(work, "intruder"));
    expect(await mtls(helloworld, intruder)).toBe("refused");
  }, 120_000);
});
