import { KubeApiStandIn, type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { fromAny, TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ISTIO_KINDS, type RunningConfigPush, startConfigPush } from "../src/index.js";

let fx: MeshFixture;
let api: KubeApiStandIn;
let cp: RunningConfigPush;

beforeAll(async () => {
  fx = await meshFixture("cfgwatch");
  api = new KubeApiStandIn("asm-config");
  await api.start();
  // The Istio CRDs, as installing Istio's CRDs on the config cluster would register them.
  for (const k of ISTIO_KINDS)
    api.registerResource({ group: k.group, version: "v1", plural: k.plural, kind: k.kind, namespaced: true, statusSubresource: true });
  api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
  cp = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: 20,
    configCluster: { kubeconfig: api.kubeconfig() },
  });
  await cp.ready;
});
afterAll(async () => {
  await cp.stop();
  await api.stop();
  await fx.dispose();
});

const routeClusters = () =>
  cp.cache.get(TYPE.route).flatMap((r) => {
    const rc = fromAny(r.any) as {
      virtual_hosts: Array<{ routes: Array<{ route: { cluster?: string; weighted_clusters?: { clusters: Array<{ name: string }> } } }> }>;
    };
    return rc.virtual_hosts.flatMap((v) => v.routes.flatMap((x) => x.route.cluster ?? x.route.weighted_clusters?.clusters.map((c) => c.name) ?? []));
  });

describe("the CONFIG producer (Istio CRDs on the config cluster)", () => {
  it("publishes VirtualServices and DestinationRules as CONFIG events, unchanged ones once, deletions as tombstones", async () => {
    const { Publisher } = await import("@isthmus/bus");
    const { buildEvent, serviceStateV1 } = await import("@isthmus/events");
    const svc = buildEvent(
      serviceStateV1,
      fx.mesh,
      {
        cluster: "c1",
        namespace: "default",
        name: "reviews",
        hostname: "reviews.default.svc.cluster.local",
        ports: [{ name: "grpc", port: 9080, protocol: "GRPC" }],
        endpoints: [],
        stale: false,
      },
      { source: "t" },
    );
    await new Publisher(fx.bus.js).publish(svc.subject, svc.event);
    api.apply({
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "reviews", namespace: "default" },
      spec: { host: "reviews", subsets: [{ name: "v2", labels: { version: "v2" } }] },
    });
    api.apply({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "reviews", namespace: "default" },
      spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v2" } }] }] },
    });
    await waitFor(() => routeClusters().includes("outbound|9080|v2|reviews.default.svc.cluster.local"), 10_000, "route to subset v2 in xDS");
    const subject = `mesh.${fx.mesh}.config.VirtualService.default.reviews`;
    const count = async () => (await fx.bus.jsm.streams.info(`CONFIG_${fx.mesh}`, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
    expect(await count()).toBe(1);
    api.apply({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "reviews", namespace: "default", labels: {} },
      spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v2" } }] }] },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await count()).toBe(1); // same content: nothing new
    api.remove("networking.istio.io/v1", "VirtualService", "default", "reviews");
    await waitFor(() => routeClusters().includes("outbound|9080||reviews.default.svc.cluster.local"), 10_000, "back to default routing");
    expect(await count()).toBe(2); // the tombstone
  });
});
