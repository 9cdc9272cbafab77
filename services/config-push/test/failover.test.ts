import * as grpc from "@grpc/grpc-js";
import * as xds from "@grpc/grpc-js-xds";
import { Publisher } from "@isthmus/bus";
import { buildEvent, serviceStateV1 } from "@isthmus/events";
import { type MeshFixture, meshFixture, TcpRelay, testNatsUrl, waitFor } from "@isthmus/testing";
import { grpcBootstrap, TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConfigPush, startConfigPush } from "../src/index.js";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";

let fx: MeshFixture;
let first: RunningConfigPush;
let second: RunningConfigPush;
let relay: TcpRelay;
const servers: Array<{ stop(): void }> = [];
const HOST = "failover.default.svc.cluster.local";
const NODE = "sidecar~127.0.0.1~fo-client.default~default.svc.cluster.local";

beforeAll(async () => {
  fx = await meshFixture("failover");
  const opts = { mesh: fx.mesh, bus: { servers: testNatsUrl(), waitOnFirstConnect: false }, host: "127.0.0.1", port: 0, debounceMs: 50 };
  first = await startConfigPush({ ...opts, instance: "config-push-1" });
  second = await startConfigPush({ ...opts, instance: "config-push-2" });
  relay = await TcpRelay.start({ host: "127.0.0.1", port: first.port });
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = grpcBootstrap({ server: `127.0.0.1:${relay.port}`, nodeId: NODE });
  xds.register();
});
afterAll(async () => {
  for (const s of servers) s.stop();
  await relay.close();
  await second.stop();
  await fx.dispose();
});

describe("config-push killed", () => {
  it("clients keep calling on their last config; a second replica takes them over with the same resource versions", async () => {
    const hw = await helloworldServer("v1", "fo");
    servers.push(hw);
    const s = buildEvent(
      serviceStateV1,
      fx.mesh,
      {
        cluster: "c1",
        namespace: "default",
        name: "failover",
        hostname: HOST,
        ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
        endpoints: [
          {
            address: "127.0.0.1",
            ports: { grpc: hw.port },
            ready: true,
            serving: true,
            terminating: false,
            cluster: "c1",
            network: "",
            locality: { region: "", zone: "", subzone: "" },
            labels: {},
          },
        ],
        stale: false,
      },
      { source: "t" },
    );
    await new Publisher(fx.bus.js).publish(s.subject, s.event);
    const client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
    await waitFor(async () => (await sayHello(client).catch(() => "")).includes("v1"), 20_000, "working through the first replica");
    await waitFor(() => first.cache.version(TYPE.endpoint) === second.cache.version(TYPE.endpoint), 10_000, "replicas agree");
    for (const t of Object.values(TYPE)) expect(second.cache.version(t)).toBe(first.cache.version(t)); // same versions, computed independently

    await first.stop(); // the first replica dies
    relay.cutAll();
    for (let i = 0; i < 20; i++) expect(await sayHello(client)).toContain("v1"); // last config keeps working
    relay.setTarget({ host: "127.0.0.1", port: second.port });
    const proxy = () => [...second.ads.proxies.values()].find((p) => p.id === NODE);
    await waitFor(() => [...(proxy()?.types.values() ?? [])].filter((t) => t.acked).length === 4, 20_000, "second replica serves and is ACKed");
    for (const [type, st] of proxy()?.types ?? []) expect(st.acked).toBe(first.cache.version(type as (typeof TYPE)[keyof typeof TYPE]));
    expect(await sayHello(client)).toContain("v1");
    client.close();
  });
});
