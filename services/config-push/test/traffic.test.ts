import * as grpc from "@grpc/grpc-js";
import * as xds from "@grpc/grpc-js-xds";
import { Publisher } from "@isthmus/bus";
import { buildEvent, configResourceV1, serviceStateV1 } from "@isthmus/events";
import { type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConfigPush, startConfigPush } from "../src/index.js";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";

let fx: MeshFixture;
let cp: RunningConfigPush;
let pub: Publisher;
let client: grpc.Client;
const servers: Array<{ port: number; stop(): void }> = [];
const HOST = "helloworld.default.svc.cluster.local";

async function publishConfig(kind: "VirtualService" | "DestinationRule", name: string, spec: Record<string, unknown>) {
  const e = buildEvent(
    configResourceV1,
    fx.mesh,
    { apiVersion: "networking.istio.io/v1", kind, namespace: "default", name, labels: {}, spec },
    { source: "test/config" },
  );
  await pub.publish(e.subject, e.event);
}

async function calls(n: number): Promise<{ v1: number; v2: number; failed: Map<number, number> }> {
  const r = { v1: 0, v2: 0, failed: new Map<number, number>() };
  for (let i = 0; i < n; i++) {
    try {
      const a = await sayHello(client);
      if (a.includes("v1")) r.v1++;
      else r.v2++;
    } catch (e) {
      const code = (e as grpc.ServiceError).code;
      r.failed.set(code, (r.failed.get(code) ?? 0) + 1);
    }
  }
  return r;
}

beforeAll(async () => {
  fx = await meshFixture("traffic");
  pub = new Publisher(fx.bus.js);
  cp = await startConfigPush({ mesh: fx.mesh, bus: { servers: testNatsUrl(), waitOnFirstConnect: false }, host: "127.0.0.1", port: 0, debounceMs: 50 });
  await cp.ready;
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${cp.port}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: "sidecar~127.0.0.1~client.default~default.svc.cluster.local", locality: {} },
  });
  xds.register();
  const v1 = await helloworldServer("v1", "hw-v1");
  const v2 = await helloworldServer("v2", "hw-v2");
  servers.push(v1, v2);
  const ep = (port: number, version: string) => ({
    address: "127.0.0.1",
    ports: { grpc: port },
    ready: true,
    serving: true,
    terminating: false,
    cluster: "cluster-1",
    network: "",
    locality: { region: "r", zone: "z", subzone: "" },
    labels: { app: "helloworld", version },
  });
  const s = buildEvent(
    serviceStateV1,
    fx.mesh,
    {
      cluster: "cluster-1",
      namespace: "default",
      name: "helloworld",
      hostname: HOST,
      ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
      endpoints: [ep(v1.port, "v1"), ep(v2.port, "v2")],
      stale: false,
    },
    { source: "test/discovery" },
  );
  await pub.publish(s.subject, s.event);
  await publishConfig("DestinationRule", "helloworld", {
    host: "helloworld",
    subsets: [
      { name: "v1", labels: { version: "v1" } },
      { name: "v2", labels: { version: "v2" } },
    ],
  });
  client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  for (const s of servers) s.stop();
  await cp.stop();
  await fx.dispose();
});

describe("Istio traffic management through @grpc/grpc-js-xds", () => {
  it("a 90/10 VirtualService split over subsets sends 900 ± 60 of 1,000 calls to v1", async () => {
    await publishConfig("VirtualService", "helloworld", {
      hosts: ["helloworld"],
      http: [
        {
          route: [
            { destination: { host: "helloworld", subset: "v1" }, weight: 90 },
            { destination: { host: "helloworld", subset: "v2" }, weight: 10 },
          ],
        },
      ],
    });
    // The split is in force once a run of calls shows both subsets at about the right ratio.
    await waitFor(
      async () => {
        const r = await calls(100);
        return r.v1 >= 75 && r.v2 >= 1;
      },
      45_000,
      "split in force",
    );
    const r = await calls(1000);
    expect(r.failed.size).toBe(0);
    expect(r.v1).toBeGreaterThanOrEqual(840);
    expect(r.v1).toBeLessThanOrEqual(960);
  });

  it("a 50% fault abort fails about half the calls with the configured status", async () => {
    await publishConfig("VirtualService", "helloworld", {
      hosts: ["helloworld"],
      http: [{ route: [{ destination: { host: "helloworld", subset: "v1" } }], fault: { abort: { percentage: { value: 50 }, grpcStatus: "UNAVAILABLE" } } }],
    });
    await waitFor(async () => (await calls(40)).failed.size > 0, 20_000, "fault in force");
    const r = await calls(1000);
    const unavailable = r.failed.get(grpc.status.UNAVAILABLE) ?? 0;
    expect([...r.failed.keys()]).toEqual([grpc.status.UNAVAILABLE]);
    expect(unavailable).toBeGreaterThanOrEqual(430);
    expect(unavailable).toBeLessThanOrEqual(570);
    expect(r.v2).toBe(0); // the route sends what it does not abort to v1
  });
});
