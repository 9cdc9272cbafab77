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
const servers: Array<{ port: number; stop(): void; calls: () => number }> = [];

async function publishConfig(kind: "VirtualService" | "DestinationRule", host: string, spec: Record<string, unknown>) {
  const e = buildEvent(
    configResourceV1,
    fx.mesh,
    { apiVersion: "networking.istio.io/v1", kind, namespace: "default", name: host, labels: {}, spec },
    { source: "test/config" },
  );
  await pub.publish(e.subject, e.event);
}

/** A service with one healthy and one always-failing endpoint. */
async function service(name: string) {
  const good = await helloworldServer("v1", `${name}-good`);
  const bad = await helloworldServer("v1", `${name}-bad`, { failing: true });
  servers.push(good, bad);
  const ep = (port: number) => ({
    address: "127.0.0.1",
    ports: { grpc: port },
    ready: true,
    serving: true,
    terminating: false,
    cluster: "c1",
    network: "",
    locality: { region: "r", zone: "z", subzone: "" },
    labels: { app: name },
  });
  const s = buildEvent(
    serviceStateV1,
    fx.mesh,
    {
      cluster: "c1",
      namespace: "default",
      name,
      hostname: `${name}.default.svc.cluster.local`,
      ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
      endpoints: [ep(good.port), ep(bad.port)],
      stale: false,
    },
    { source: "test/discovery" },
  );
  await pub.publish(s.subject, s.event);
  return { good, bad, client: new GreeterClient(`xds:///${name}.default.svc.cluster.local:5000`, grpc.credentials.createInsecure()) };
}

async function failures(client: grpc.Client, n: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i++) await sayHello(client).catch(() => failed++);
  return failed;
}

beforeAll(async () => {
  fx = await meshFixture("resilience");
  pub = new Publisher(fx.bus.js);
  cp = await startConfigPush({ mesh: fx.mesh, bus: { servers: testNatsUrl(), waitOnFirstConnect: false }, host: "127.0.0.1", port: 0, debounceMs: 50 });
  await cp.ready;
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${cp.port}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: "sidecar~127.0.0.1~client.default~default.svc.cluster.local", locality: {} },
  });
  xds.register();
});
afterAll(async () => {
  for (const s of servers) s.stop();
  await cp.stop();
  await fx.dispose();
});

describe("resilience through @grpc/grpc-js-xds", () => {
  it("retries on UNAVAILABLE hide one failing endpoint", async () => {
    const { client, bad } = await service("retried");
    await waitFor(async () => (await failures(client, 10)) > 0, 20_000, "the broken endpoint is in the rotation");
    await publishConfig("VirtualService", "retried", {
      hosts: ["retried"],
      http: [{ route: [{ destination: { host: "retried" } }], retries: { attempts: 3, retryOn: "unavailable" } }],
    });
    await waitFor(async () => (await failures(client, 40)) === 0, 20_000, "retries in force");
    const before = bad.calls();
    expect(await failures(client, 200)).toBe(0);
    expect(bad.calls()).toBeGreaterThan(before); // it was still tried, and retried past
    client.close();
  });

  it("outlier detection ejects a failing endpoint", async () => {
    const { client, bad } = await service("ejecting");
    await publishConfig("DestinationRule", "ejecting", {
      host: "ejecting",
      trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5, interval: "1s", baseEjectionTime: "60s", maxEjectionPercent: 100 } },
    });
    // Failures happen until an interval has passed with enough requests, then the host is out.
    await waitFor(async () => (await failures(client, 20)) === 0, 30_000, "failing endpoint ejected");
    const before = bad.calls();
    expect(await failures(client, 200)).toBe(0);
    expect(bad.calls()).toBe(before); // not even tried any more
    client.close();
  });
});
