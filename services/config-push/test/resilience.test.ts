import * as grpc from "@grpc/grpc-js";
import { waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { type Testbed, testbed } from "./testbed.js";

let tb: Testbed;
const servers: Array<{ stop(): void }> = [];

/** A service with one healthy and one always-failing endpoint. */
async function service(name: string) {
  const good = await helloworldServer("v1", `${name}-good`);
  const bad = await helloworldServer("v1", `${name}-bad`, { failing: true });
  servers.push(good, bad);
  await tb.publishService(name, [{ port: good.port }, { port: bad.port }]);
  return { good, bad, client: new GreeterClient(`xds:///${name}.default.svc.cluster.local:5000`, grpc.credentials.createInsecure()) };
}

async function failures(client: grpc.Client, n: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i++) await sayHello(client).catch(() => failed++);
  return failed;
}

beforeAll(async () => {
  tb = await testbed("resilience", "sidecar~127.0.0.1~client.default~default.svc.cluster.local");
});
afterAll(async () => {
  for (const s of servers) s.stop();
  await tb.dispose();
});

describe("resilience through @grpc/grpc-js-xds", () => {
  it("retries on UNAVAILABLE hide one failing endpoint", async () => {
    const { client, bad } = await service("retried");
    await waitFor(async () => (await failures(client, 10)) > 0, 20_000, "the broken endpoint is in the rotation");
    await tb.publishConfig("VirtualService", "retried", {
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
    await tb.publishConfig("DestinationRule", "ejecting", {
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
