import { testNatsUrl } from "@isthmus/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningPvlManager, startPvlManager } from "../src/index.js";
import { ACK_VSW, ASM_VSW, CLUSTER, PvlHarness, seedSpec } from "./harness.js";

let h: PvlHarness;
let m: RunningPvlManager | undefined;
beforeEach(async () => {
  h = new PvlHarness();
  await h.start();
});
afterEach(async () => {
  await m?.stop();
  m = undefined;
  if (h.mesh) {
    const { Bus } = await import("@isthmus/bus");
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    for (const d of ["DISCOVERY", "CONFIG", "CA", "PVL", "PUSH", "DLQ"]) await bus.jsm.streams.delete(`${d}_${h.mesh}`).catch(() => {});
    await bus.close();
  }
  await h.stop();
});

async function manager(o: { sanCheck?: boolean; bus?: boolean } = {}) {
  m = await startPvlManager({
    mesh: h.mesh,
    configCluster: { kubeconfig: h.api.kubeconfig() },
    provider: h.cloud,
    databaseUrl: h.db.url,
    sanCheck: o.sanCheck ?? false,
    bus: o.bus ? { servers: testNatsUrl(), waitOnFirstConnect: false } : undefined,
  });
  return m;
}

describe("pvl-manager", () => {
  it("brings the seed's example to status: Available in the seed's exact shape, announcing each transition", async () => {
    await manager({ bus: true });
    await h.apply(seedSpec());
    await h.until(async () => (await h.get())?.status?.status === "Available", 20_000, "Available");
    const obj = await h.get();
    const st = obj?.status as unknown as Record<string, unknown>;
    // Exactly the seed's fields: no more, no fewer.
    expect(Object.keys(st).sort()).toEqual(["clusters", "pilot", "status"]);
    expect(st).toEqual({
      clusters: [
        {
          clusterId: CLUSTER,
          pvlEndpoint: {
            connectionStatus: "Connected",
            domainName: expect.stringMatching(/^ep-[a-z0-9]+\.epsrv-[a-z0-9]+\.cn-hangzhou\.privatelink\.aliyuncs\.com$/),
            id: expect.stringMatching(/^ep-/),
            status: "Active",
          },
          pvlEndpointService: {
            id: expect.stringMatching(/^epsrv-/),
            name: expect.stringMatching(/^com\.aliyuncs\.privatelink\.cn-hangzhou\.epsrv-/),
            status: "Active",
          },
        },
      ],
      pilot: {
        clusters: [
          {
            clusterId: CLUSTER,
            pvlEndpoint: {
              connectionStatus: "Connected",
              domainName: expect.stringMatching(/privatelink\.aliyuncs\.com$/),
              id: expect.stringMatching(/^ep-/),
              status: "Active",
            },
          },
        ],
        pvlEndpointService: {
          id: expect.stringMatching(/^epsrv-/),
          name: expect.stringMatching(/^com\.aliyuncs\.privatelink\.cn-hangzhou\./),
          status: "Active",
        },
      },
      status: "Available",
    });
    const c = (st.clusters as Array<{ pvlEndpoint: { domainName: string; id: string }; pvlEndpointService: { id: string; name: string } }>)[0]!;
    expect(c.pvlEndpoint.domainName.startsWith(`${c.pvlEndpoint.id}.${c.pvlEndpointService.id}.`)).toBe(true);
    expect(c.pvlEndpointService.name).toBe(`com.aliyuncs.privatelink.cn-hangzhou.${c.pvlEndpointService.id}`);
    expect(obj?.metadata.finalizers).toContain("istio.alibabacloud.com/pvl-cleanup");
    expect(await h.cloud.allResources()).toHaveLength(4);
    // Provisioning -> Available went out as events on the PVL stream.
    const { Bus } = await import("@isthmus/bus");
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    await h.until(
      async () => {
        const msg = await bus.jsm.streams.getMessage(`PVL_${h.mesh}`, { last_by_subj: `mesh.${h.mesh}.pvl.config.default` }).catch(() => null);
        return msg?.json<{ data: { status: string } }>().data.status === "Available";
      },
      10_000,
      "PvlStatusChanged Available",
    );
    await bus.close();
  });

  const invalid: Array<[string, () => { name?: string; spec: unknown }, string, RegExp]> = [
    ["a name other than default", () => ({ name: "mine", spec: seedSpec() }), "InvalidName", /only "default" is supported/],
    [
      "an unknown cluster id",
      () => ({ spec: { ...seedSpec(), ackVpcEndpoint: [{ clusterId: "c-nope", vSwitches: [{ vSwitchId: ACK_VSW, zoneId: "cn-hangzhou-j" }] }] } }),
      "UnknownCluster",
      /cluster c-nope is not added/,
    ],
    [
      "a vSwitch that does not exist",
      () => ({ spec: { ...seedSpec(), asmVpcEndpoint: { vSwitches: [{ vSwitchId: "vsw-ghost", zoneId: "cn-hangzhou-i" }] } } }),
      "UnknownVSwitch",
      /vsw-ghost does not exist/,
    ],
    [
      "an ackVpcEndpoint zone that is not an ASM vSwitch zone",
      () => ({ spec: { ...seedSpec(), ackVpcEndpoint: [{ clusterId: CLUSTER, vSwitches: [{ vSwitchId: ACK_VSW, zoneId: "cn-hangzhou-i" }] }] } }),
      "ZoneMismatch",
      /zoneId cn-hangzhou-i is not a zone of the ASM-side vSwitches \(cn-hangzhou-j\)/,
    ],
    [
      "an asmVpcEndpoint zone that is not the cluster's vSwitch zone",
      () => ({ spec: { ...seedSpec(), asmVpcEndpoint: { vSwitches: [{ vSwitchId: ASM_VSW, zoneId: "cn-hangzhou-j" }] } } }),
      "ZoneMismatch",
      /not a zone of cluster .*'s vSwitches \(cn-hangzhou-i\)/,
    ],
    [
      "a vSwitch that lies in another zone than the spec matches against",
      () => ({ spec: { ...seedSpec(), asmVpcEndpoint: { vSwitches: [{ vSwitchId: "vsw-asm-other", zoneId: "cn-hangzhou-i" }] } } }),
      "ZoneMismatch",
      /zoneId cn-hangzhou-j is not a zone of the ASM-side vSwitches \(cn-hangzhou-k\)/,
    ],
    [
      "a duplicate cluster",
      () => ({ spec: { ...seedSpec(), ackVpcEndpoint: [...seedSpec().ackVpcEndpoint, ...seedSpec().ackVpcEndpoint] } }),
      "Duplicate",
      /lists cluster .* twice/,
    ],
    ["a malformed spec", () => ({ spec: { ackVpcEndpoint: "nope" } }), "MalformedSpec", /spec is malformed/],
  ];
  for (const [what, make, reason, message] of invalid) {
    it(`refuses ${what} with a condition and provisions nothing`, async () => {
      await manager();
      const { name, spec } = make();
      await h.apply(spec, name ?? "default");
      await h.until(async () => (await h.get(name ?? "default"))?.status?.status === "Invalid", 10_000, "Invalid");
      const conds = (await h.get(name ?? "default"))?.status?.conditions ?? [];
      expect(conds.map((c) => c.reason)).toContain(reason);
      expect(conds.map((c) => c.message).join("\n")).toMatch(message);
      expect(conds.every((c) => c.status === "False")).toBe(true);
      expect(await h.cloud.allResources()).toEqual([]);
    });
  }

  it("recovers by itself when an exhausted quota is raised", async () => {
    await h.cloud.configure({ quotaEndpoints: 1 });
    await manager();
    await h.apply(seedSpec());
    await h.until(async () => (await h.get())?.status?.conditions?.some((c) => c.reason === "QuotaExceeded") === true, 15_000, "QuotaExceeded");
    expect((await h.get())?.status?.status).toBe("Failed");
    await h.cloud.configure({ quotaEndpoints: 50 });
    await h.until(async () => (await h.get())?.status?.status === "Available", 20_000, "Available after the raise");
    expect((await h.get())?.status?.conditions).toBeUndefined();
  });

  it("says when PrivateLink is not activated", async () => {
    await h.cloud.configure({ activated: false });
    await manager();
    await h.apply(seedSpec());
    await h.until(async () => (await h.get())?.status?.conditions?.some((c) => c.reason === "ServiceNotActivated") === true, 15_000, "ServiceNotActivated");
  });

  it("converges on spec changes and removes everything it created on deletion", async () => {
    await manager();
    await h.apply(seedSpec());
    await h.until(async () => (await h.get())?.status?.status === "Available");
    const two = seedSpec();
    two.ackVpcEndpoint.push({ clusterId: "c-second", vSwitches: [{ vSwitchId: "vsw-second", zoneId: "cn-hangzhou-j" }] });
    await h.apply(two);
    await h.until(async () => (await h.get())?.status?.status === "Available" && (await h.get())?.status?.clusters?.length === 2, 20_000, "second cluster");
    expect(await h.cloud.allResources()).toHaveLength(7);
    await h.apply(seedSpec());
    await h.until(async () => (await h.cloud.allResources()).length === 4 && (await h.get())?.status?.clusters?.length === 1, 20_000, "second cluster removed");
    await h.objects.deleteClusterCustomObject({ group: "istio.alibabacloud.com", version: "v1beta1", plural: "asmpvlconfigs", name: "default" });
    await h.until(async () => (await h.get()) === undefined, 20_000, "object gone once cleaned up");
    expect(await h.cloud.allResources()).toEqual([]);
  });
});
