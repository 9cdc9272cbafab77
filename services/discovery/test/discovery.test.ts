import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscoveryHarness } from "./harness.js";
import { deploy, k8s } from "./objects.js";

let h: DiscoveryHarness;
beforeEach(() => {
  h = new DiscoveryHarness();
});
afterEach(() => h.stop());

describe("discovery against the Kubernetes API stand-in", () => {
  it("seed 002: helloworld v1 in cluster-1 and v2 in discovery-only cluster-2, with cluster, network and locality", async () => {
    const c1 = await h.cluster("cluster-1", { mode: "managed", network: "network1" });
    const c2 = await h.cluster("cluster-2", { mode: "discovery-only", network: "network2" });
    c1.apply(k8s.node("node-a", "cn-hangzhou", "cn-hangzhou-j"));
    c2.apply(k8s.node("node-b", "cn-shanghai", "cn-shanghai-b"));
    for (const c of [c1, c2]) c.apply(k8s.service("helloworld"));
    deploy(c1, { svc: "helloworld", version: "v1", replicas: 1, subnet: "10.1.0", node: "node-a" });
    deploy(c2, { svc: "helloworld", version: "v2", replicas: 1, subnet: "10.2.0", node: "node-b" });
    await h.start();
    await h.until(async () => (await h.states()).size === 2, 15_000, "both clusters' helloworld");
    const s = await h.states();
    const v1 = s.get("cluster-1/default/helloworld")?.endpoints;
    const v2 = s.get("cluster-2/default/helloworld")?.endpoints;
    expect(v1).toEqual([
      expect.objectContaining({
        address: "10.1.0.1",
        cluster: "cluster-1",
        network: "network1",
        labels: { app: "helloworld", version: "v1" },
        locality: { region: "cn-hangzhou", zone: "cn-hangzhou-j", subzone: "" },
      }),
    ]);
    expect(v2).toEqual([
      expect.objectContaining({
        address: "10.2.0.1",
        cluster: "cluster-2",
        network: "network2",
        labels: { app: "helloworld", version: "v2" },
        locality: { region: "cn-shanghai", zone: "cn-shanghai-b", subzone: "" },
      }),
    ]);
    expect(await h.clusterStatus("cluster-2")).toMatchObject({ state: "Synced" });
  });

  it("scales 0 -> 50 -> 0 and the last events match the cluster exactly; unchanged state publishes nothing", async () => {
    const c = await h.cluster("cluster-1", { network: "n1" });
    c.apply(k8s.service("web"));
    await h.start();
    await h.until(async () => (await h.state("cluster-1/default/web")) !== undefined);
    deploy(c, { svc: "web", version: "v1", replicas: 50, subnet: "10.9.0", node: "node-a" });
    await h.until(async () => (await h.state("cluster-1/default/web"))?.endpoints.length === 50, 15_000, "50 endpoints");
    const expected = Array.from({ length: 50 }, (_, i) => `10.9.0.${i + 1}`).sort();
    expect((await h.state("cluster-1/default/web"))?.endpoints.map((e) => e.address)).toEqual(expected);
    c.apply(k8s.slice("web-v1", "web", "default", []));
    await h.until(async () => (await h.state("cluster-1/default/web"))?.endpoints.length === 0, 15_000, "0 endpoints");
    const count = await h.messageCount();
    c.apply(k8s.slice("web-v1", "web", "default", [])); // the same state again
    c.apply(k8s.service("web"));
    await new Promise((r) => setTimeout(r, 500));
    expect(await h.messageCount()).toBe(count);
  });

  it("publishes a tombstone when a service is deleted, and retracts a removed cluster", async () => {
    const c = await h.cluster("cluster-1");
    c.apply(k8s.service("a"));
    c.apply(k8s.service("b"));
    await h.start();
    await h.until(async () => (await h.states()).size === 2);
    c.remove("v1", "Service", "default", "a");
    await h.until(async () => !(await h.states()).has("cluster-1/default/a"), 10_000, "tombstone for a");
    const { removeCluster } = await import("../src/index.js");
    expect(await removeCluster(h.d.store, "cluster-1")).toBe(true);
    await h.until(async () => (await h.states()).size === 0, 10_000, "cluster retracted");
    expect(h.d.leading()).toEqual([]);
  });

  it("410 Gone in the middle of a watch: re-lists and publishes the deletion made meanwhile", async () => {
    const c = await h.cluster("cluster-1");
    c.apply(k8s.service("keep"));
    c.apply(k8s.service("doomed"));
    deploy(c, { svc: "keep", version: "v1", replicas: 2, subnet: "10.3.0", node: "n" });
    await h.start();
    await h.until(async () => (await h.states()).size === 2);
    c.dropWatches();
    c.remove("v1", "Service", "default", "doomed");
    c.apply(k8s.slice("keep-v1", "keep", "default", [{ ip: "10.3.0.1" }]));
    c.expireHistory();
    await h.until(
      async () => {
        const s = await h.states();
        return !s.has("cluster-1/default/doomed") && s.get("cluster-1/default/keep")?.endpoints.length === 1;
      },
      15_000,
      "deletion and change after re-list",
    );
  });

  it("a cluster given as a manifest directory: Services, EndpointSlices, ServiceEntry + WorkloadEntry, watched for changes", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "manifests-"));
    const yaml = (objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join("\n---\n");
    writeFileSync(join(dir, "hello.yaml"), yaml([k8s.service("helloworld"), k8s.slice("hw", "helloworld", "default", [{ ip: "127.0.0.1" }])]));
    writeFileSync(
      join(dir, "vm.yaml"),
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: vms}
spec:
  hosts: [legacy.vms.internal]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: legacy}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: vms, labels: {app: legacy}}
spec: {address: 192.168.50.1, serviceAccount: legacy}
`,
    );
    writeFileSync(join(dir, "broken.yaml"), "kind: [unclosed");
    h.db = await (await import("@isthmus/testing")).createTestDatabase();
    const { openDiscoveryStore, upsertCluster } = await import("../src/index.js");
    const store = await openDiscoveryStore(h.db.url);
    await upsertCluster(store, { id: "local", source: { manifests: dir }, mode: "managed", network: "", region: "", zone: "" });
    await store.close();
    await h.start();
    await h.until(async () => (await h.states()).size === 2, 10_000, "manifest services");
    expect((await h.state("local/vms/legacy"))?.endpoints.map((e) => e.address)).toEqual(["192.168.50.1"]);
    writeFileSync(
      join(dir, "hello.yaml"),
      yaml([k8s.service("helloworld"), k8s.slice("hw", "helloworld", "default", [{ ip: "127.0.0.1" }, { ip: "127.0.0.2" }])]),
    );
    await h.until(async () => (await h.state("local/default/helloworld"))?.endpoints.length === 2, 10_000, "file change picked up");
    rmSync(join(dir, "vm.yaml"));
    await h.until(async () => !(await h.states()).has("local/vms/legacy"), 10_000, "file removal picked up");
  });

  it("two replicas: one leads each cluster, the other takes over when it stops, no conflicting events", async () => {
    const c = await h.cluster("cluster-1");
    c.apply(k8s.service("svc"));
    deploy(c, { svc: "svc", version: "v1", replicas: 3, subnet: "10.4.0", node: "n" });
    const first = await h.start();
    const { startDiscovery } = await import("../src/index.js");
    const { testNatsUrl } = await import("@isthmus/testing");
    const second = await startDiscovery({
      mesh: h.mesh,
      databaseUrl: h.db.url,
      bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
      coalesceMs: 10,
      reconcileMs: 300,
    });
    try {
      await h.until(async () => (await h.state("cluster-1/default/svc"))?.endpoints.length === 3);
      expect([first.leading(), second.leading()]).toEqual([["cluster-1"], []]);
      const before = await h.messageCount();
      await first.stop();
      h.d = second; // read the stream through the live replica from here on
      await h.until(() => second.leading().includes("cluster-1"), 10_000, "failover");
      deploy(c, { svc: "svc", version: "v1", replicas: 4, subnet: "10.4.0", node: "n" });
      await h.until(async () => (await h.state("cluster-1/default/svc"))?.endpoints.length === 4, 10_000, "change after failover");
      // The new leader republished nothing it found already on the stream: one new event, for the change.
      expect(await h.messageCount()).toBe(before + 1);
    } finally {
      h.d = second; // the harness stops it
    }
  });
});
