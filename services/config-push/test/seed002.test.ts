import * as grpc from "@grpc/grpc-js";
import * as xds from "@grpc/grpc-js-xds";
import { Publisher } from "@isthmus/bus";
import { buildEvent, serviceStateV1 } from "@isthmus/events";
import { type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { grpcBootstrap } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConfigPush, startConfigPush } from "../src/index.js";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { expectNothingRefused } from "./testbed.js";

let fx: MeshFixture;
let cp: RunningConfigPush;
const servers: Array<{ port: number; stop(): void }> = [];
const HOST = "helloworld.default.svc.cluster.local";

function state(cluster: string, network: string, zone: string, endpoints: Array<{ port: number; version: string }>) {
  return buildEvent(
    serviceStateV1,
    fx.mesh,
    {
      cluster,
      namespace: "default",
      name: "helloworld",
      hostname: HOST,
      ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
      endpoints: endpoints.map((e) => ({
        address: "127.0.0.1",
        ports: { grpc: e.port },
        ready: true,
        serving: true,
        terminating: false,
        cluster,
        network,
        locality: { region: "cn-hangzhou", zone, subzone: "" },
        labels: { app: "helloworld", version: e.version },
      })),
      stale: false,
    },
    { source: "test/discovery" },
  );
}

beforeAll(async () => {
  fx = await meshFixture("xds");
  cp = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: 100,
    validateXds: true,
  });
  await cp.ready;
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = grpcBootstrap({
    server: `127.0.0.1:${cp.port}`,
    nodeId: "sidecar~127.0.0.1~sleep-1.default~default.svc.cluster.local",
    locality: { region: "cn-hangzhou", zone: "cn-hangzhou-j" },
  });
  xds.register();
});
afterAll(async () => {
  for (const s of servers) s.stop();
  await cp.stop();
  await fx.dispose();
  expectNothingRefused(cp);
});

describe("config-push serving proxyless gRPC through @grpc/grpc-js-xds (seed 002)", () => {
  it("a client on xds:///helloworld... sees v1 (cluster-1) and v2 (cluster-2); scaling v2 to 0 leaves only v1", async () => {
    const v1 = await helloworldServer("v1", "helloworld-v1-7b888");
    const v2 = await helloworldServer("v2", "helloworld-v2-7b949");
    servers.push(v1, v2);
    const pub = new Publisher(fx.bus.js);
    const c1 = state("cluster-1", "network1", "cn-hangzhou-j", [{ port: v1.port, version: "v1" }]);
    const c2 = state("cluster-2", "network2", "cn-hangzhou-i", [{ port: v2.port, version: "v2" }]);
    await pub.publish(c1.subject, c1.event);
    await pub.publish(c2.subject, c2.event);

    const client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
    const answers: string[] = [];
    await waitFor(
      async () => {
        answers.length = 0;
        for (let i = 0; i < 10; i++) answers.push(await sayHello(client));
        return answers.some((a) => a.includes("v1")) && answers.some((a) => a.includes("v2"));
      },
      20_000,
      "both versions in 10 calls",
    );
    expect(answers.every((a) => /^Hello version: v[12], instance: helloworld-v[12]-/.test(a))).toBe(true);

    const proxy = [...cp.ads.proxies.values()][0];
    expect(proxy?.id).toBe("sidecar~127.0.0.1~sleep-1.default~default.svc.cluster.local");
    expect([...(proxy?.types.keys() ?? [])].sort()).toEqual([
      "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
      "type.googleapis.com/envoy.config.listener.v3.Listener",
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    ]);
    for (const st of proxy?.types.values() ?? []) expect(st.acked).toBe(st.sent); // every type ACKed

    const scaled = state("cluster-2", "network2", "cn-hangzhou-i", []);
    const t0 = Date.now();
    await pub.publish(scaled.subject, scaled.event);
    await waitFor(
      async () => {
        const batch: string[] = [];
        for (let i = 0; i < 10; i++) batch.push(await sayHello(client));
        return batch.every((a) => a.includes("v1"));
      },
      5_000,
      "only v1 after scaling v2 to 0",
    );
    expect(Date.now() - t0).toBeLessThan(100 + 1_000 + 500); // debounce window + 1 s (+ the 10 probing calls)
    client.close();
  });
});
