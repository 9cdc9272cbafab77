import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { register as registerXds } from "@grpc/grpc-js-xds";
import { Bus, provisionRemoteControlPlane } from "@isthmus/bus";
import { createIntermediate, LocalKeyProvider, openCaStore, type RunningCa, startCertAuthority } from "@isthmus/cert-authority";
import { type RunningConfigPush, startConfigPush } from "@isthmus/config-push";
import { type RunningDiscovery, startDiscovery } from "@isthmus/discovery";
import { createTestDatabase, KubeApiStandIn, NatsServer, startLeafTopology, uniqueMeshId, type WanLink, waitFor } from "@isthmus/testing";
import { grpcBootstrap, XDS_BOOTSTRAP_OPTION } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRoot, type Root } from "../../services/cert-authority/test/harness.js";
import { agentRound } from "../src/commands/agent.js";
import { GreeterClient, helloworldServer, sayHello } from "../src/demo/helloworld.js";

// Seeds 000/001: a remote control plane. The hub runs the mesh's NATS, discovery and
// config-push; the remote cluster runs a NATS leaf node (its own JetStream domain) with its
// own discovery and config-push, and its proxies connect locally. One emulated WAN link
// (50 ms RTT, 1 MB/s) joins leaf and hub. Enabling it for a cluster is one setting in the
// mesh's cluster registry: `mode: remote-control-plane`.
const HOST = "helloworld.default.svc.cluster.local";
const work = mkdtempSync(join(tmpdir(), "isthmus-remote-cp-"));
const cleanup: Array<() => unknown> = [];
const mesh = uniqueMeshId("rcp");

let hub: NatsServer;
let leaf: NatsServer;
let wan: WanLink;
let hubCp: RunningConfigPush;
let remoteCp: RunningConfigPush;
let remoteCa: RunningCa;
let remoteApi: KubeApiStandIn;
let root: Root;
const servers: Record<string, { port: number; stop(): void }> = {};

function clients(cp: RunningConfigPush, name: string): grpc.Client {
  const c = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure(), {
    [XDS_BOOTSTRAP_OPTION]: grpcBootstrap({ server: `127.0.0.1:${cp.port}`, nodeId: `sidecar~127.0.0.1~${name}.default~default.svc.cluster.local` }),
  });
  cleanup.push(() => c.close());
  return c;
}

async function seen(c: grpc.Client, n = 20): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add(/instance: (\S+)/.exec(await sayHello(c).catch(() => ""))?.[1] ?? "error");
  return out;
}

/** A manifest cluster's helloworld: the Service, and an EndpointSlice and Pod per instance (all on 127.0.0.1). */
function writeCluster(id: string, instances: Array<[string, number]>): void {
  const dir = join(work, id);
  mkdirSync(dir, { recursive: true });
  const docs: unknown[] = [
    { apiVersion: "v1", kind: "Service", metadata: { name: "helloworld", namespace: "default" }, spec: { ports: [{ name: "grpc", port: 5000 }] } },
  ];
  for (const [instance, port] of instances) {
    docs.push(
      {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: instance, namespace: "default", labels: { "kubernetes.io/service-name": "helloworld" } },
        addressType: "IPv4",
        ports: [{ name: "grpc", port }],
        endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: instance, namespace: "default" } }],
      },
      { apiVersion: "v1", kind: "Pod", metadata: { name: instance, namespace: "default", labels: { app: "helloworld" } }, spec: {} },
    );
  }
  writeFileSync(join(dir, "helloworld.yaml"), docs.map((d) => JSON.stringify(d)).join("\n---\n"));
}

async function discovery(name: string, natsUrl: string, clusters: string): Promise<RunningDiscovery> {
  const db = await createTestDatabase();
  cleanup.push(() => db.drop());
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, clusters);
  const d = await startDiscovery({ mesh, databaseUrl: db.url, bus: { servers: natsUrl, waitOnFirstConnect: false }, clustersFile: file, reconcileMs: 500 });
  cleanup.push(() => d.stop());
  return d;
}

beforeAll(async () => {
  registerXds();
  // Hub and leaf node joined through the emulated WAN; the leaf authenticates, only JetStream flows cross.
  const topo = await startLeafTopology({ rttMs: 50, bytesPerSecond: 1_000_000, leafDomain: "leaf-cluster-r" });
  cleanup.push(() => topo.dispose());
  ({ hub, leaf, wan } = topo);
  const [hubBus, leafBus] = [
    await Bus.connect({ servers: hub.url, waitOnFirstConnect: false }),
    await Bus.connect({ servers: leaf.url, waitOnFirstConnect: false }),
  ];
  await provisionRemoteControlPlane({ hub: hubBus.jsm, leaf: leafBus.jsm, mesh, hubDomain: "hub", leafDomain: "leaf-cluster-r" });
  await hubBus.close();
  await leafBus.close();

  servers.v1 = await helloworldServer("v1", "helloworld-v1-0");
  servers.v2 = await helloworldServer("v2", "helloworld-v2-0");
  servers.v2b = await helloworldServer("v2", "helloworld-v2-1");
  for (const s of Object.values(servers)) cleanup.push(() => s.stop());
  writeCluster("cluster-1", [["helloworld-v1-0", servers.v1.port]]);
  writeCluster("cluster-r", [["helloworld-v2-0", servers.v2.port]]);

  // The hub's registry: cluster-1 managed here, cluster-r served by its remote control plane (the one setting).
  const dir = (id: string) => JSON.stringify(join(work, id));
  await discovery(
    "hub",
    hub.url,
    `clusters:\n  - { id: cluster-1, source: { manifests: ${dir("cluster-1")} }, mode: managed }\n  - { id: cluster-r, source: { manifests: ${dir("cluster-r")} }, mode: remote-control-plane }\n`,
  );
  // In the remote cluster: its discovery and config-push, on the leaf node.
  await discovery("remote", leaf.url, `clusters:\n  - { id: cluster-r, source: { manifests: ${dir("cluster-r")} }, mode: managed }\n`);
  const cp = (url: string, remoteFor?: string[]) =>
    startConfigPush({
      mesh,
      bus: { servers: url, waitOnFirstConnect: false },
      host: "127.0.0.1",
      port: 0,
      debounceMs: 50,
      ...(remoteFor ? { remoteFor } : {}),
    });
  // The remote cluster's cert-authority: its own intermediate from the mesh's root, its own database, on the leaf.
  root = await makeRoot();
  const caDb = await createTestDatabase();
  cleanup.push(() => caDb.drop());
  const meshKeys = new LocalKeyProvider(randomBytes(32));
  const store = await openCaStore(caDb.url);
  await createIntermediate({ mesh, trustDomain: "cluster.local", rootDir: root.dir, rootKeys: root.keys, store, meshKeys });
  await store.close();
  remoteApi = new KubeApiStandIn("cluster-r");
  await remoteApi.start();
  cleanup.push(() => remoteApi.stop());
  remoteCa = await startCertAuthority({
    mesh,
    trustDomain: "cluster.local",
    databaseUrl: caDb.url,
    keys: meshKeys,
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    grpcTls: true,
    serverNames: ["localhost"],
    bus: { servers: leaf.url, waitOnFirstConnect: false },
    validity: { defaultTtlMs: 3_600_000, maxTtlMs: 24 * 3_600_000, backdateMs: 60_000 },
    audiences: ["istio-ca"],
    clusters: [{ id: "cluster-r", access: { kubeconfig: remoteApi.kubeconfig() } }],
  });
  cleanup.push(() => remoteCa.stop());
  hubCp = await cp(hub.url);
  remoteCp = await cp(leaf.url, ["cluster-r"]);
  cleanup.push(
    () => hubCp.stop(),
    () => remoteCp.stop(),
  );
  await Promise.all([hubCp.ready, remoteCp.ready]);
}, 90_000);
afterAll(async () => {
  for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => {});
});

describe("remote control plane over a NATS leaf node", () => {
  it("serves the remote cluster's proxies locally over one WAN connection, keeps serving local changes with the WAN cut, and converges on heal", async () => {
    const remoteProxy = clients(remoteCp, "sleep-r");
    const hubProxy = clients(hubCp, "sleep-1");
    // Both see the whole mesh: the hub gets cluster-r's states through the leaf, the leaf gets cluster-1's from the hub.
    await waitFor(async () => (await seen(remoteProxy)).size === 2, 30_000, "remote proxy sees v1 and v2");
    await waitFor(async () => (await seen(hubProxy)).size === 2, 30_000, "hub proxy sees v1 and v2");
    expect(await seen(remoteProxy)).toEqual(new Set(["helloworld-v1-0", "helloworld-v2-0"]));
    // The proxies never crossed the WAN: only the leaf node's connection did.
    expect(wan.connections).toBe(1);
    // A leaf node without the hub's leaf credentials does not join.
    const intruder = await NatsServer.start({
      domain: "intruder",
      config: `leafnodes { remotes: [ { url: "nats-leaf://leaf:wrong@127.0.0.1:${wan.port}" } ] }`,
    });
    const ib = await Bus.connect({ servers: intruder.url, waitOnFirstConnect: false });
    await new Promise((r) => setTimeout(r, 2_000));
    await expect(ib.nc.request("$JS.hub.API.INFO", undefined, { timeout: 1_000 })).rejects.toThrow();
    await ib.close();
    await intruder.dispose();

    // The WAN goes down; cluster-r scales v2 out. Its own control plane pushes the change to its proxies.
    wan.cut();
    writeCluster("cluster-r", [
      ["helloworld-v2-0", servers.v2?.port as number],
      ["helloworld-v2-1", servers.v2b?.port as number],
    ]);
    await waitFor(async () => (await seen(remoteProxy, 30)).has("helloworld-v2-1"), 30_000, "local change reaches local proxies with the WAN cut");
    // ... and a new workload there still gets its certificate from the cluster's own CA.
    const out = mkdtempSync(join(tmpdir(), "rcp-agent-"));
    writeFileSync(join(out, "roots.pem"), root.certPem);
    const issued = await agentRound({
      caAddress: `localhost:${remoteCa.grpcPort}`,
      caRoots: join(out, "roots.pem"),
      out,
      token: remoteApi.issueServiceAccountToken({ namespace: "default", serviceAccount: "sleep" }),
      clusterId: "cluster-r",
      keyAlg: "ec-p256",
    });
    expect(issued.spiffeId).toBe("spiffe://cluster.local/ns/default/sa/sleep");
    // The remote config-push has the trust bundle from its local CA (the SDS ROOTCA of its sidecars).
    expect(remoteCp.model.roots()).toContain(root.certPem);
    expect((await seen(hubProxy, 30)).has("helloworld-v2-1")).toBe(false); // the hub cannot know yet

    // Heal: the hub's stream catches up from the leaf, and everyone converges.
    wan.heal();
    await waitFor(async () => (await seen(hubProxy, 30)).has("helloworld-v2-1"), 60_000, "hub converges after heal");
    expect(await seen(hubProxy, 30)).toEqual(new Set(["helloworld-v1-0", "helloworld-v2-0", "helloworld-v2-1"]));
    expect(await seen(remoteProxy, 30)).toEqual(new Set(["helloworld-v1-0", "helloworld-v2-0", "helloworld-v2-1"]));
  }, 180_000);
});
