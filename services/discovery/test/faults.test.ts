import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscoveryHarness } from "./harness.js";
import { deploy, k8s } from "./objects.js";

let h: DiscoveryHarness;
beforeEach(() => {
  h = new DiscoveryHarness();
});
afterEach(() => h.stop());

describe("discovery under faults", () => {
  it("API server stopped for 30 s: nothing published empty, status Disconnected; after recovery only the real difference", async () => {
    const c = await h.cluster("cluster-1", { network: "n1" });
    c.apply(k8s.service("web"));
    c.apply(k8s.service("quiet"));
    deploy(c, { svc: "web", version: "v1", replicas: 5, subnet: "10.5.0", node: "n" });
    deploy(c, { svc: "quiet", version: "v1", replicas: 2, subnet: "10.6.0", node: "n" });
    await h.start();
    await h.until(async () => (await h.state("cluster-1/default/web"))?.endpoints.length === 5);
    const before = await h.messageCount();

    await c.goDown();
    await h.until(async () => (await h.clusterStatus("cluster-1"))?.state === "Disconnected", 10_000, "Disconnected status");
    expect((await h.clusterStatus("cluster-1"))?.lastError).toBeTruthy();
    // While nobody can see it, the cluster changes: one pod goes away.
    c.apply(
      k8s.slice(
        "web-v1",
        "web",
        "default",
        [1, 2, 3, 4].map((i) => ({ ip: `10.5.0.${i}`, pod: `web-v1-${i - 1}`, node: "n" })),
      ),
    );
    const downSince = Date.now();
    while (Date.now() - downSince < 30_000) {
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await h.messageCount()).toBe(before); // nothing, in particular nothing empty
    }
    expect((await h.state("cluster-1/default/web"))?.endpoints).toHaveLength(5);

    await c.comeUp();
    await h.until(async () => (await h.state("cluster-1/default/web"))?.endpoints.length === 4, 20_000, "the change after recovery");
    await h.until(async () => (await h.clusterStatus("cluster-1"))?.state === "Synced", 10_000, "Synced status");
    await new Promise((r) => setTimeout(r, 500));
    expect(await h.messageCount()).toBe(before + 1);
    expect((await h.state("cluster-1/default/quiet"))?.endpoints).toHaveLength(2);
  }, 90_000);

  it("a configured stale policy marks a disconnected cluster's endpoints stale, never empties them, and clears on recovery", async () => {
    const c = await h.cluster("cluster-1");
    c.apply(k8s.service("web"));
    deploy(c, { svc: "web", version: "v1", replicas: 3, subnet: "10.7.0", node: "n" });
    await h.start({ staleAfterMs: 1_000 });
    await h.until(async () => (await h.state("cluster-1/default/web"))?.endpoints.length === 3);
    await c.goDown();
    await h.until(async () => (await h.state("cluster-1/default/web"))?.stale === true, 15_000, "stale mark");
    expect((await h.state("cluster-1/default/web"))?.endpoints).toHaveLength(3);
    await c.comeUp();
    await h.until(async () => (await h.state("cluster-1/default/web"))?.stale === false, 20_000, "stale cleared");
  }, 60_000);

  it("bad objects are skipped with a reason and the rest of the service is published", async () => {
    const c = await h.cluster("cluster-1");
    c.apply(k8s.service("mixed"));
    const bigLabels = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`l${i}`, "x"]));
    c.apply(k8s.pod("noisy", "default", bigLabels, "sa", "n"));
    c.apply(k8s.slice("mixed-a", "mixed", "default", [{ ip: "10.8.0.1" }, { ip: "999.1.1.1" }, { ip: "10.8.0.2", pod: "noisy" }]));
    c.apply({ ...k8s.slice("mixed-b", "mixed", "default", [{ ip: "10.8.0.3" }]), addressType: "FQDN" });
    c.apply({ apiVersion: "v1", kind: "Service", metadata: { name: "noports", namespace: "default" }, spec: { ports: [{ name: "x", port: 0 }] } });
    await h.start();
    await h.until(async () => (await h.states()).size === 2);
    expect((await h.state("cluster-1/default/mixed"))?.endpoints.map((e) => e.address)).toEqual(["10.8.0.1"]);
    expect((await h.states()).get("cluster-1/default/noports")).toMatchObject({ endpoints: [] });
  });
});

describe("discovery under churn", () => {
  it("absorbs 1,000 pod changes per second for 30 s with coalescing and bounded memory; the final state is exact", async () => {
    const c = await h.cluster("cluster-1");
    const SERVICES = 20;
    const PODS = 10;
    const ready: boolean[][] = Array.from({ length: SERVICES }, () => Array(PODS).fill(true));
    const sliceOf = (s: number) =>
      k8s.slice(
        `svc-${s}-v1`,
        `svc-${s}`,
        "default",
        ready[s]!.map((r, p) => ({ ip: `10.${s}.0.${p + 1}`, pod: `svc-${s}-v1-${p}`, node: "n", ready: r })),
      );
    for (let s = 0; s < SERVICES; s++) {
      c.apply(k8s.service(`svc-${s}`));
      deploy(c, { svc: `svc-${s}`, version: "v1", replicas: PODS, subnet: `10.${s}.0`, node: "n" });
    }
    await h.start();
    await h.until(async () => (await h.states()).size === SERVICES, 20_000, "initial state");
    const publishedBefore = h.d.publisher("cluster-1")?.eventsPublished ?? 0;
    const heapBefore = process.memoryUsage().heapUsed;

    let changes = 0;
    const t0 = Date.now();
    // Paced by the clock (a change per millisecond on average): a late timer on a busy
    // machine is made up for by a burst, so the rate holds.
    while (Date.now() - t0 < 30_000) {
      const due = Date.now() - t0;
      while (changes < due) {
        const s = Math.floor(Math.random() * SERVICES);
        const p = Math.floor(Math.random() * PODS);
        ready[s]![p] = !ready[s]![p];
        c.apply(sliceOf(s));
        changes++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const rate = changes / ((Date.now() - t0) / 1000);
    expect(rate).toBeGreaterThan(700); // the load was really there

    await h.until(
      async () => {
        const st = await h.states();
        return [...Array(SERVICES).keys()].every((s) => {
          const got = st.get(`cluster-1/default/svc-${s}`)?.endpoints.map((e) => `${e.address}:${e.ready}`);
          const want = ready[s]!.map((r, p) => [`10.${s}.0.${p + 1}`, r] as const)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([a, r]) => `${a}:${r}`);
          return JSON.stringify(got) === JSON.stringify(want);
        });
      },
      30_000,
      "exact final state",
    );
    const events = (h.d.publisher("cluster-1")?.eventsPublished ?? 0) - publishedBefore;
    expect(events).toBeLessThan(changes); // coalesced: never an event per change
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    expect(heapGrowthMb).toBeLessThan(300);
    console.log(`churn: ${changes} changes (${rate.toFixed(0)}/s) -> ${events} events, heap +${heapGrowthMb.toFixed(0)} MB`);
  }, 150_000);
});
