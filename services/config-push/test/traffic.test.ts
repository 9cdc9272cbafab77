import * as grpc from "@grpc/grpc-js";
import { waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { type Testbed, testbed } from "./testbed.js";

let tb: Testbed;
let client: grpc.Client;
const servers: Array<{ stop(): void }> = [];
const HOST = "helloworld.default.svc.cluster.local";

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
  tb = await testbed("traffic", "sidecar~127.0.0.1~client.default~default.svc.cluster.local");
  const v1 = await helloworldServer("v1", "hw-v1");
  const v2 = await helloworldServer("v2", "hw-v2");
  servers.push(v1, v2);
  await tb.publishService("helloworld", [
    { port: v1.port, labels: { app: "helloworld", version: "v1" } },
    { port: v2.port, labels: { app: "helloworld", version: "v2" } },
  ]);
  await tb.publishConfig("DestinationRule", "helloworld", {
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
  await tb.dispose();
});

describe("Istio traffic management through @grpc/grpc-js-xds", () => {
  it("a 90/10 VirtualService split over subsets sends 900 ± 60 of 1,000 calls to v1", async () => {
    await tb.publishConfig("VirtualService", "helloworld", {
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
    await tb.publishConfig("VirtualService", "helloworld", {
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
