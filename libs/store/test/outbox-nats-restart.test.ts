import { Bus } from "@isthmus/bus";
import { createTestDatabase, NatsServer, type TestDatabase, uniqueMeshId } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relayThroughFaults } from "./outbox-scenario.js";

let tdb: TestDatabase;
let nats: NatsServer;
beforeAll(async () => {
  tdb = await createTestDatabase();
  nats = await NatsServer.start();
});
afterAll(async () => {
  await nats.dispose();
  await tdb.drop();
});

describe("outbox relay across NATS restarts", () => {
  it("puts 10,000 events on the stream exactly once, in order per aggregate, with NATS restarted twice", async () => {
    const bus = await Bus.connect({ servers: nats.url, maxReconnectDelayMs: 500 });
    const run = await relayThroughFaults({ bus, mesh: uniqueMeshId("relay"), databaseUrl: tdb.url, fault: () => nats.restart() });
    await bus.close();
    expect(run.faults).toEqual([3_000, 7_000]);
    expect(run).toMatchObject({ onStream: 10_000, distinct: 10_000, duplicated: 0, aggregates: 50, outOfOrder: 0 });
  }, 180_000);
});
