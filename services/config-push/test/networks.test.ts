import * as grpc from "@grpc/grpc-js";
import { buildEvent, buildTombstone, networkGatewayV1 } from "@isthmus/events";
import { TcpRelay, testNatsUrl, waitFor } from "@isthmus/testing";
import { fromAny, TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConfigPush, startConfigPush } from "../src/index.js";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { type Testbed, testbed } from "./testbed.js";

// Multi-network meshes (seed 002: cluster-1 on network1, cluster-2 on network2): a client on
// network1 reaches network2's endpoints only through network2's east-west gateway, and a
// remote control plane can be limited to its own cluster's services.
const HOST = "helloworld.default.svc.cluster.local";

let tb: Testbed;
let gateway: TcpRelay;
const stops: Array<() => unknown> = [];

async function versionsSeen(client: grpc.Client, calls: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < calls; i++) {
    const v = /version: (\w+)/.exec(await sayHello(client))?.[1] ?? "?";
    seen.set(v, (seen.get(v) ?? 0) + 1);
  }
  return seen;
}

beforeAll(async () => {
  tb = await testbed("networks", "sidecar~127.0.0.1~sleep-1.default~default.svc.cluster.local", { nodeMetadata: { NETWORK: "network1" } });
});
afterAll(async () => {
  for (const s of stops) await s();
  await tb.dispose();
});

describe("networks and scoping", () => {
  it("sends network2's endpoints to a network1 client as network2's east-west gateway, and drops them without one", async () => {
    const v1 = await helloworldServer("v1", "helloworld-v1-0");
    const v2 = await helloworldServer("v2", "helloworld-v2-0");
    stops.push(v1.stop, v2.stop);
    // The gateway of network2: a TCP relay standing in for the east-west gateway in front of v2.
    gateway = await TcpRelay.start({ host: "127.0.0.1", port: v2.port });
    stops.push(() => gateway.close());
    const gw = buildEvent(networkGatewayV1, tb.fx.mesh, { network: "network2", addresses: [{ address: "127.0.0.1", port: gateway.port }] }, { source: "test" });
    await tb.pub.publish(gw.subject, gw.event);
    await tb.publishService("helloworld", [{ port: v1.port, network: "network1", labels: { app: "helloworld", version: "v1" } }], { cluster: "cluster-1" });
    // Two v2 endpoints behind the one gateway: it stands in for both (weight 2).
    await tb.publishService(
      "helloworld",
      [
        { port: v2.port, address: "10.2.0.1", network: "network2", labels: { app: "helloworld", version: "v2" } },
        { port: v2.port, address: "10.2.0.2", network: "network2", labels: { app: "helloworld", version: "v2" } },
      ],
      { cluster: "cluster-2" },
    );

    const client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
    stops.push(() => client.close());
    await waitFor(async () => (await versionsSeen(client, 10)).has("v2"), 20_000, "v2 through the gateway");
    expect(gateway.accepted).toBeGreaterThan(0); // the client never dialled 10.2.0.x: it went through the gateway
    expect(tb.cp.views.size).toBeGreaterThanOrEqual(2); // the network1 view next to the default one

    // Without a gateway, network2 is unreachable from network1: only v1 answers.
    const t = buildTombstone(networkGatewayV1, tb.fx.mesh, { network: "network2" }, { source: "test" });
    await tb.pub.publish(t.subject, t.event);
    await waitFor(async () => !(await versionsSeen(client, 10)).has("v2"), 20_000, "v2 dropped");
    expect([...(await versionsSeen(client, 20)).keys()]).toEqual(["v1"]);
  }, 60_000);

  it("a control plane scoped to its own cluster serves only that cluster's endpoints", async () => {
    const scoped: RunningConfigPush = await startConfigPush({
      mesh: tb.fx.mesh,
      bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
      host: "127.0.0.1",
      port: 0,
      debounceMs: 20,
      clusters: ["cluster-2"],
    });
    stops.push(() => scoped.stop());
    await scoped.ready;
    const addresses = (cp: RunningConfigPush) =>
      cp.cache
        .get(TYPE.endpoint)
        .flatMap((r) => JSON.stringify(fromAny(r.any)).match(/"address":"[0-9.]+"/g) ?? [])
        .sort();
    // The default (network-less) view shows endpoints as they are: both clusters' unscoped, cluster-2's only when scoped.
    expect(new Set(addresses(tb.cp))).toEqual(new Set(['"address":"10.2.0.1"', '"address":"10.2.0.2"', '"address":"127.0.0.1"']));
    expect(new Set(addresses(scoped))).toEqual(new Set(['"address":"10.2.0.1"', '"address":"10.2.0.2"']));
    // The unscoped replica has both clusters' endpoints; the scoped one only cluster-2's.
    const count = (cp: RunningConfigPush) => cp.model.hostPorts().flatMap((hp) => hp.endpoints.map((e) => e.cluster));
    expect(new Set(count(tb.cp))).toEqual(new Set(["cluster-1", "cluster-2"]));
    expect(new Set(count(scoped))).toEqual(new Set(["cluster-2"]));
  });
});
