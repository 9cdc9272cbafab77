import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { register as registerXds, XdsChannelCredentials, XdsServer, XdsServerCredentials } from "@grpc/grpc-js-xds";
import { Bus, Publisher, provisionMeshStreams } from "@isthmus/bus";
import { createIntermediate, LocalKeyProvider, openCaStore } from "@isthmus/cert-authority";
import { buildEvent, configResourceV1 } from "@isthmus/events";
import { createTestDatabase, freePort, KubeApiStandIn, NatsServer, PostgresServer, uniqueMeshId, waitFor } from "@isthmus/testing";
import { grpcBootstrap, XDS_BOOTSTRAP_OPTION } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRoot, type Root } from "../../services/cert-authority/test/harness.js";
import { agentRound } from "../src/commands/agent.js";
import { GreeterClient, greeter, sayHello } from "../src/demo/helloworld.js";

// Seed 003's multi-master topology as processes on this machine: two meshes, each with its
// own NATS, Postgres, cert-authority, discovery and config-push, one shared root. cluster-1
// is mesh-1's and discovery-only in mesh-2; cluster-2 the other way round. Then mesh-1's
// whole control plane goes away.
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const main = (svc: string) => fileURLToPath(new URL(`../../services/${svc}/src/main.ts`, import.meta.url));
const HOST = "helloworld.default.svc.cluster.local";
const work = mkdtempSync(join(tmpdir(), "isthmus-multi-master-"));
const cleanup: Array<() => unknown> = [];

interface Proc {
  proc: ChildProcess;
  kill(): Promise<void>;
}

/** A service as its own process, ready when it says so on stdout. */
async function service(name: string, svc: string, env: Record<string, string>, ready: RegExp): Promise<Proc> {
  const proc = spawn(process.execPath, ["--conditions=source", "--import", "tsx", main(svc)], {
    cwd: repoRoot,
    env: { ...process.env, HEALTH_PORT: "0", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr?.on("data", (b) => {
    err += b;
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const p: Proc = {
    proc,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
  cleanup.push(() => p.kill());
  await new Promise<void>((resolve, reject) => {
    let out = "";
    proc.stdout?.on("data", (b: Buffer) => {
      out += b;
      if (ready.test(out)) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`${name} exited (${code}): ${err}`)));
  });
  return p;
}

interface Mesh {
  id: string;
  nats: NatsServer;
  pg?: PostgresServer;
  api: KubeApiStandIn;
  caPort: number;
  xdsPort: number;
  procs: Proc[];
  home: string;
}

function clustersFile(name: string, home: string, other: string): string {
  const f = join(work, `${name}-clusters.yaml`);
  writeFileSync(
    f,
    [
      "clusters:",
      `  - { id: ${home}, source: { manifests: ${JSON.stringify(join(work, home))} }, mode: managed, network: "", region: r, zone: ${home} }`,
      `  - { id: ${other}, source: { manifests: ${JSON.stringify(join(work, other))} }, mode: discovery-only, network: "", region: r, zone: ${other} }`,
    ].join("\n"),
  );
  return f;
}

async function startMesh(name: string, root: Root, home: string, other: string, ownPostgres: boolean): Promise<Mesh> {
  const id = uniqueMeshId(name);
  const nats = await NatsServer.start();
  cleanup.push(() => nats.dispose());
  let pg: PostgresServer | undefined;
  let dbUrl: string;
  if (ownPostgres) {
    pg = await PostgresServer.start();
    cleanup.push(() => pg?.dispose());
    dbUrl = pg.url;
  } else {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    dbUrl = db.url;
  }
  const bus = await Bus.connect({ servers: nats.url, waitOnFirstConnect: false });
  await provisionMeshStreams(bus.jsm, id);
  // Both namespaces' workloads require mTLS (the CONFIG producer would publish this from the CRD).
  const pa = buildEvent(
    configResourceV1,
    id,
    {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      namespace: "istio-system",
      name: "default",
      labels: {},
      spec: { mtls: { mode: "STRICT" } },
    },
    { source: "test" },
  );
  await new Publisher(bus.js).publish(pa.subject, pa.event);
  await bus.close();

  const kek = randomBytes(32);
  const store = await openCaStore(dbUrl);
  await createIntermediate({ mesh: id, trustDomain: "cluster.local", rootDir: root.dir, rootKeys: root.keys, store, meshKeys: new LocalKeyProvider(kek) });
  await store.close();
  const api = new KubeApiStandIn(home);
  await api.start();
  cleanup.push(() => api.stop());
  writeFileSync(join(work, `${name}.kubeconfig`), api.kubeconfig());
  writeFileSync(join(work, `${name}.ca-clusters.json`), JSON.stringify([{ id: home, kubeconfigPath: join(work, `${name}.kubeconfig`) }]));

  const common = { MESH_ID: id, NATS_URL: nats.url, DATABASE_URL: dbUrl };
  const [caPort, xdsPort] = [await freePort(), await freePort()];
  const procs = await Promise.all([
    service(
      `${name} cert-authority`,
      "cert-authority",
      {
        ...common,
        CA_KEK: kek.toString("base64"),
        CA_GRPC_HOST: "127.0.0.1",
        CA_GRPC_PORT: String(caPort),
        CA_SERVER_NAMES: "localhost",
        CA_CLUSTERS_FILE: join(work, `${name}.ca-clusters.json`),
      },
      /listening/,
    ),
    service(`${name} discovery`, "discovery", { ...common, CLUSTERS_FILE: clustersFile(name, home, other), COALESCE_MS: "10" }, /discovery ready/),
    service(`${name} config-push`, "config-push", { ...common, XDS_HOST: "127.0.0.1", XDS_PORT: String(xdsPort), DEBOUNCE_MS: "100" }, /serving xDS/),
  ]);
  return { id, nats, ...(pg ? { pg } : {}), api, caPort, xdsPort, procs, home };
}

/** A workload's certificate from its mesh's CA, as `isthmus agent` provisions it. */
async function certs(m: Mesh, root: Root, sa: string): Promise<string> {
  const out = join(work, `${m.id}-${sa}-${randomBytes(3).toString("hex")}`);
  const roots = join(work, "root.pem");
  writeFileSync(roots, root.certPem);
  const token = m.api.issueServiceAccountToken({ namespace: "default", serviceAccount: sa });
  await agentRound({ caAddress: `localhost:${m.caPort}`, caRoots: roots, out, token, clusterId: m.home, keyAlg: "ec-p256" });
  return out;
}

function bootstrap(m: Mesh, node: string, certDir: string): string {
  return grpcBootstrap({ server: `127.0.0.1:${m.xdsPort}`, nodeId: node, certDir });
}

/** helloworld as an xDS-managed server of its mesh, with mTLS from its mesh's CA; its manifest in its cluster. */
async function helloworld(m: Mesh, root: Root, version: string, instance: string, peers: string[]): Promise<void> {
  const port = await freePort();
  const dir = join(work, m.home);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${instance}.yaml`), manifest(instance, version, port));
  const server = new XdsServer({
    [XDS_BOOTSTRAP_OPTION]: bootstrap(m, `sidecar~127.0.0.1~${instance}.default~default.svc.cluster.local`, await certs(m, root, "helloworld")),
  });
  server.addService(greeter, {
    SayHello: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<{ message: string }>) => {
      peers.push((call.getAuthContext().sslPeerCertificate as { subjectaltname?: string } | undefined)?.subjectaltname ?? "plaintext");
      cb(null, { message: `Hello version: ${version}, instance: ${instance}` });
    },
  });
  cleanup.push(() => server.forceShutdown());
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, new XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (e) => (e ? reject(e) : resolve())),
  );
}

function manifest(instance: string, version: string, port: number): string {
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "helloworld", namespace: "default" },
      spec: { ports: [{ name: "grpc", port: 5000, targetPort: port }] },
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: instance, namespace: "default", labels: { "kubernetes.io/service-name": "helloworld" } },
      addressType: "IPv4",
      ports: [{ name: "grpc", port, protocol: "TCP" }],
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: instance, namespace: "default" } }],
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: instance, namespace: "default", labels: { app: "helloworld", version } },
      spec: { serviceAccountName: "helloworld" },
    },
  ]
    .map((o) => JSON.stringify(o))
    .join("\n---\n");
}

async function client(m: Mesh, root: Root, name: string): Promise<grpc.Client> {
  const c = new GreeterClient(`xds:///${HOST}:5000`, new XdsChannelCredentials(grpc.credentials.createInsecure()), {
    [XDS_BOOTSTRAP_OPTION]: bootstrap(m, `sidecar~127.0.0.1~${name}.default~default.svc.cluster.local`, await certs(m, root, "sleep")),
  });
  cleanup.push(() => c.close());
  return c;
}

async function answers(c: grpc.Client, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(/instance: (\S+)/.exec(await sayHello(c))?.[1] ?? "?");
  return seen;
}

let root: Root;
let mesh1: Mesh;
let mesh2: Mesh;
const peers: string[] = [];

beforeAll(async () => {
  registerXds(); // the xds: resolver and gRPC's xDS HTTP filters
  root = await makeRoot();
  for (const c of ["cluster-1", "cluster-2"]) mkdirSync(join(work, c), { recursive: true });
  [mesh1, mesh2] = await Promise.all([startMesh("mesh1", root, "cluster-1", "cluster-2", true), startMesh("mesh2", root, "cluster-2", "cluster-1", false)]);
  await helloworld(mesh1, root, "v1", "helloworld-v1-0", peers);
  await helloworld(mesh2, root, "v2", "helloworld-v2-0", peers);
}, 120_000);
afterAll(async () => {
  for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => {});
});

describe("multi-master disaster recovery (seed 003)", () => {
  it("a client in mesh-1 reaches v1 and v2 across meshes over mTLS; with mesh-1's control plane gone, mesh-2 carries on and mesh-1's clients keep calling", async () => {
    const c1 = await client(mesh1, root, "sleep-1");
    await waitFor(async () => (await answers(c1, 10).catch(() => new Set<string>())).size === 2, 60_000, "mesh-1 client sees v1 and v2");
    expect(await answers(c1, 20)).toEqual(new Set(["helloworld-v1-0", "helloworld-v2-0"]));
    // Every call was mutual TLS: the servers saw the client's SPIFFE id (issued by mesh-1's intermediate, trusted by mesh-2's workload through the shared root).
    expect(new Set(peers)).toEqual(new Set(["URI:spiffe://cluster.local/ns/default/sa/sleep"]));
    const c2 = await client(mesh2, root, "sleep-2");
    await waitFor(async () => (await answers(c2, 10).catch(() => new Set<string>())).size === 2, 60_000, "mesh-2 client sees v1 and v2");

    // Disaster: all of mesh-1's control plane goes (its services, NATS and Postgres).
    for (const p of mesh1.procs) await p.kill();
    await mesh1.nats.kill();
    await mesh1.pg?.kill();

    // mesh-1's running clients keep calling, on their last configuration.
    expect(await answers(c1, 20)).toEqual(new Set(["helloworld-v1-0", "helloworld-v2-0"]));

    // mesh-2 keeps pushing: v2 scaled to two instances reaches mesh-2's proxies.
    await helloworld(mesh2, root, "v2", "helloworld-v2-1", peers);
    await waitFor(async () => (await answers(c2, 30)).size === 3, 30_000, "the scaled v2 reaches mesh-2's proxies");

    // A new proxy in mesh-2 starts: a certificate from mesh-2's CA and its configuration from mesh-2's config-push.
    const c3 = await client(mesh2, root, "sleep-3");
    await waitFor(async () => (await answers(c3, 20).catch(() => new Set<string>())).size === 3, 30_000, "new mesh-2 proxy sees every instance");

    // And mesh-1's clients still call, though no one tells them about v2's new instance.
    expect(await answers(c1, 20)).toEqual(new Set(["helloworld-v1-0", "helloworld-v2-0"]));
  }, 240_000);
});
