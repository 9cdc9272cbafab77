import type * as grpc from "@grpc/grpc-js";
import { Publisher } from "@isthmus/bus";
import { buildEvent, serviceStateV1 } from "@isthmus/events";
import { expectValidXds, type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { adsClient, fromAny, resourcesOfConfigDump, TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configDump, type RunningConfigPush, type ServiceState, startConfigPush } from "../src/index.js";
import { expectNothingRefused } from "./testbed.js";

let fx: MeshFixture;
let cp: RunningConfigPush;
let pub: Publisher;

interface DeltaResponse {
  type_url: string;
  nonce: string;
  resources: Array<{ name: string; version: string; resource: { type_url: string; value: Buffer } }>;
  removed_resources: string[];
}

async function publishService(name: string, ips: string[], port: ServiceState["ports"][number] = { name: "grpc", port: 8080, protocol: "GRPC" }) {
  const e = buildEvent(
    serviceStateV1,
    fx.mesh,
    {
      cluster: "c1",
      namespace: "default",
      name,
      hostname: `${name}.default.svc.cluster.local`,
      ports: [port],
      endpoints: ips.map((address) => ({
        address,
        ports: { [port.name]: port.port },
        ready: true,
        serving: true,
        terminating: false,
        cluster: "c1",
        network: "",
        locality: { region: "", zone: "", subzone: "" },
        labels: {},
      })),
      stale: false,
    },
    { source: "t" },
  );
  await pub.publish(e.subject, e.event);
}

/** An Envoy-like delta client: collects responses, ACKs each one. */
function deltaProxy(initial: Record<string, Record<string, string>> = {}) {
  const client = adsClient(`127.0.0.1:${cp.port}`);
  const call = client.DeltaAggregatedResources() as grpc.ClientDuplexStream<unknown, DeltaResponse>;
  const got: DeltaResponse[] = [];
  call.on("data", (r: DeltaResponse) => {
    got.push(r);
    call.write({ type_url: r.type_url, response_nonce: r.nonce });
  });
  call.on("error", () => {});
  const node = { id: "sidecar~10.0.0.9~envoy-1.default~default.svc.cluster.local" };
  return {
    got,
    subscribe(type: string, names: string[] = []) {
      call.write({ node, type_url: type, resource_names_subscribe: names, initial_resource_versions: initial[type] ?? {} });
    },
    close() {
      call.end();
      client.close();
    },
  };
}

beforeAll(async () => {
  fx = await meshFixture("delta");
  pub = new Publisher(fx.bus.js);
  await publishService("a", ["10.0.0.1"]);
  await publishService("b", ["10.0.0.2"]);
  cp = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: 20,
    validateXds: true,
  });
  await cp.ready;
});
afterAll(async () => {
  await cp.stop();
  await fx.dispose();
  expectNothingRefused(cp);
});

describe("delta ADS", () => {
  it("sends only what changed, names removals, and honours initial_resource_versions on reconnect", async () => {
    const A = "outbound|8080||a.default.svc.cluster.local";
    const B = "outbound|8080||b.default.svc.cluster.local";
    const p = deltaProxy();
    p.subscribe(TYPE.cluster); // wildcard
    p.subscribe(TYPE.endpoint, [A, B]);
    await waitFor(
      () => p.got.filter((r) => r.type_url === TYPE.endpoint).length === 1 && p.got.some((r) => r.type_url === TYPE.cluster),
      10_000,
      "initial state",
    );
    expect(
      p.got
        .find((r) => r.type_url === TYPE.cluster)
        ?.resources.map((r) => r.name)
        .sort(),
    ).toEqual(["BlackHoleCluster", "PassthroughCluster", A, B]); // an Envoy sidecar: Istio's PassthroughCluster and BlackHoleCluster too
    expect(
      p.got
        .find((r) => r.type_url === TYPE.endpoint)
        ?.resources.map((r) => r.name)
        .sort(),
    ).toEqual([A, B]);

    // One endpoint change: one EDS resource, nothing else.
    const before = p.got.length;
    await publishService("a", ["10.0.0.1", "10.0.0.3"]);
    await waitFor(() => p.got.length > before, 10_000, "delta push");
    await new Promise((r) => setTimeout(r, 200));
    const pushed = p.got.slice(before);
    expect(pushed.map((r) => [r.type_url, r.resources.map((x) => x.name)])).toEqual([[TYPE.endpoint, [A]]]);

    // A service goes: its cluster and endpoints are named as removed.
    const { buildTombstone } = await import("@isthmus/events");
    const t = buildTombstone(serviceStateV1, fx.mesh, { cluster: "c1", namespace: "default", name: "b" }, { source: "t" });
    const mark = p.got.length;
    await pub.publish(t.subject, t.event);
    await waitFor(() => p.got.slice(mark).some((r) => r.type_url === TYPE.cluster && r.removed_resources.includes(B)), 10_000, "removal");
    expect(p.got.slice(mark).find((r) => r.type_url === TYPE.endpoint)?.removed_resources).toEqual([B]);

    // Reconnect with what it holds: nothing is sent again.
    const held: Record<string, Record<string, string>> = {};
    const view = [...cp.ads.delta][0]?.cache; // the Envoy view this proxy is served from
    for (const type of [TYPE.cluster, TYPE.endpoint]) held[type] = Object.fromEntries((view?.get(type) ?? []).map((r) => [r.name, r.version]));
    p.close();
    const again = deltaProxy(held);
    again.subscribe(TYPE.cluster);
    again.subscribe(TYPE.endpoint, [A]);
    await new Promise((r) => setTimeout(r, 500));
    expect(again.got).toEqual([]);
    again.close();
  });

  it("gives a sidecar TCP listeners for a TCP service, and its config dump passes Envoy's constraints", async () => {
    await publishService("db", ["10.0.5.1"], { name: "tcp", port: 5432, protocol: "TCP" });
    const DB = "outbound|5432||db.default.svc.cluster.local";
    const p = deltaProxy();
    p.subscribe(TYPE.listener);
    p.subscribe(TYPE.cluster);
    const names = (type: string) => p.got.filter((r) => r.type_url === type).flatMap((r) => r.resources.map((x) => x.name));
    await waitFor(() => names(TYPE.listener).includes("0.0.0.0_5432") && names(TYPE.cluster).includes(DB), 10_000, "the TCP listener and cluster");
    // What Envoy then asks for: the routes its HTTP listeners name and its clusters' endpoints.
    p.subscribe(TYPE.route, ["8080"]);
    p.subscribe(
      TYPE.endpoint,
      names(TYPE.cluster).filter((n) => n.startsWith("outbound|")),
    );
    await waitFor(() => names(TYPE.route).includes("8080") && names(TYPE.endpoint).includes(DB), 10_000, "RDS and EDS");

    const listener = p.got.flatMap((r) => r.resources).find((r) => r.name === "0.0.0.0_5432");
    const tcp = fromAny(listener?.resource as never) as { filter_chains: Array<{ filters: Array<{ typed_config: { type_url: string; value: Buffer } }> }> };
    expect(tcp.filter_chains.map((c) => fromAny(c.filters[0]?.typed_config as never))).toEqual([{ stat_prefix: DB, cluster: DB }]);

    const dump = configDump(cp.ads, "sidecar~10.0.0.9~envoy-1.default~default.svc.cluster.local") as { configs: Array<Record<string, unknown>> };
    const resources = resourcesOfConfigDump(JSON.parse(JSON.stringify(dump)));
    expect(resources.length).toBe(new Set(p.got.flatMap((r) => r.resources.map((x) => `${r.type_url} ${x.name}`))).size);
    expectValidXds(resources);
    p.close();
  });
});
