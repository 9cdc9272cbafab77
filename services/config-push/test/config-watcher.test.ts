import { KubeApiStandIn, type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { fromAny, TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_CLUSTER_KINDS, type RunningConfigPush, startConfigPush } from "../src/index.js";

let fx: MeshFixture;
let api: KubeApiStandIn;
let cp: RunningConfigPush;

beforeAll(async () => {
  fx = await meshFixture("cfgwatch");
  api = new KubeApiStandIn("asm-config");
  await api.start();
  // The Istio, Gateway API and ASM CRDs, as installing them on the config cluster would register them.
  for (const k of CONFIG_CLUSTER_KINDS)
    api.registerResource({
      group: k.group,
      version: Object.keys(k.versions)[0] as string,
      plural: k.plural,
      kind: k.kind,
      namespaced: k.namespaced,
      statusSubresource: true,
    });
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

  it("admits what it watches: an invalid object gets status.validationMessages and never reaches proxies; warnings and analysis are written too", async () => {
    api.apply({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "broken", namespace: "default" },
      spec: { hosts: ["reviews"], http: [{ route: [{ destination: { subset: "v2" } }], timeout: "soon" }] },
    });
    const status = async (name: string) =>
      (api.get("networking.istio.io/v1", "VirtualService", "default", name) as { status?: { validationMessages?: Array<Record<string, unknown>> } } | undefined)
        ?.status?.validationMessages ?? [];
    await waitFor(async () => (await status("broken")).length > 0, 10_000, "validationMessages on the invalid object");
    const msgs = await status("broken");
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: { code: "IST0106", name: "SchemaValidationError" }, level: "ERROR", field: "spec.http.0.route.0.destination.host" }),
        expect.objectContaining({ type: { code: "ISM0007", name: "InvalidDuration" }, level: "ERROR" }),
      ]),
    );
    const subject = `mesh.${fx.mesh}.config.VirtualService.default.broken`;
    const info = await fx.bus.jsm.streams.info(`CONFIG_${fx.mesh}`, { subjects_filter: subject });
    expect(info.state.subjects?.[subject] ?? 0).toBe(0); // refused: never published

    // A valid one with a field Isthmus does not honour: published, and the warning is on its status.
    api.apply({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "mirrored", namespace: "default" },
      spec: { hosts: ["ratings"], http: [{ route: [{ destination: { host: "nowhere" } }], mirror: { host: "reviews" } }] },
    });
    await waitFor(async () => (await status("mirrored")).length >= 2, 10_000, "warnings on the valid object");
    expect(await status("mirrored")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: { code: "ISM0003", name: "UnsupportedField" }, level: "WARNING", field: "spec.http[0].mirror" }),
        expect.objectContaining({
          type: { code: "IST0101", name: "ReferencedResourceNotFound" },
          level: "ERROR",
          field: "spec.http[0].route[0].destination.host",
        }),
      ]),
    );
    const mirrored = `mesh.${fx.mesh}.config.VirtualService.default.mirrored`;
    await waitFor(
      async () => (await fx.bus.jsm.streams.info(`CONFIG_${fx.mesh}`, { subjects_filter: mirrored })).state.subjects?.[mirrored] === 1,
      10_000,
      "the valid object on the CONFIG stream",
    );
  });
});
