import * as grpc from "@grpc/grpc-js";
import { buildEvent, encodeEvent, eventDefs } from "@isthmus/events";
import { waitFor } from "@isthmus/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mutate, sampleOf } from "../../../libs/events/test/samples.js";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { type Testbed, testbed } from "./testbed.js";

// Fuzz of every event type config-push reads (issue 19): mutated events of every type, on
// their own subjects, on other entities' subjects and on random ones in its domains, then a
// good client must still be served. Fixed seed, bounded count: the same cases every run.
let tb: Testbed;
let client: grpc.Client;
let server: { port: number; stop(): void };
const HOST = "helloworld.default.svc.cluster.local";

beforeAll(async () => {
  tb = await testbed("evfuzz", "sidecar~127.0.0.1~client.default~default.svc.cluster.local");
  server = await helloworldServer("v1", "hw-v1");
  client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  server?.stop();
  await tb?.dispose();
});

describe("fuzz: the events config-push reads", () => {
  it("300 mutated events of every type leave it serving a good client", async () => {
    const mesh = tb.fx.mesh;
    const defs = eventDefs();
    const cases = fc.sample(
      fc.record({
        def: fc.constantFrom(...defs),
        path: fc.array(fc.nat(20), { maxLength: 5 }),
        replacement: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, "", -1, [], {}, "io.isthmus.tombstone.v1")),
        drop: fc.boolean(),
        where: fc.constantFrom("own", "other", "random"),
        token: fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/[^a-z0-9-]/g, "x") || "x"),
      }),
      { seed: 1919, numRuns: 300 },
    );
    for (const c of cases) {
      const good = buildEvent(c.def, mesh, sampleOf(c.def) as never, { source: "fuzz" });
      const envelope = JSON.parse(new TextDecoder().decode(encodeEvent(good.event)));
      const bytes = new TextEncoder().encode(JSON.stringify(mutate(envelope, c.path, c.replacement, c.drop)));
      const subject =
        c.where === "own"
          ? good.subject
          : c.where === "other"
            ? `${good.subject.split(".").slice(0, -1).join(".")}.${c.token}`
            : `mesh.${mesh}.${c.def.domain}.${c.token}`;
      await tb.fx.bus.js.publish(subject, bytes).catch(() => {}); // a subject no stream holds is refused by the server: fine
    }
    await tb.publishService("helloworld", [{ port: server.port, labels: { app: "helloworld", version: "v1" } }]);
    await waitFor(
      async () => {
        try {
          return (await sayHello(client)).includes("v1");
        } catch {
          return false;
        }
      },
      20_000,
      "a good client served after the fuzz",
    );
    expect(tb.cp.following()).toBe(true);
  }, 60_000);
});
