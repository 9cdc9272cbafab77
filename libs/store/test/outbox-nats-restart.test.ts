import { Bus, meshStreamSpecs, Publisher, provisionMeshStreams } from "@isthmus/bus";
import { streamName } from "@isthmus/events";
import { createTestDatabase, NatsServer, type TestDatabase, uniqueMeshId } from "@isthmus/testing";
import { DeliverPolicy } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueue, OutboxRelay, openStore } from "../src/index.js";
import { outbox } from "./fixture/schema.js";
import { migrationsFolder, positioned, until } from "./helpers.js";

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
    const mesh = uniqueMeshId("relay");
    const bus = await Bus.connect({ servers: nats.url, maxReconnectDelayMs: 500 });
    // Every event kept (no per-subject cap) so the test can see the whole history.
    await provisionMeshStreams(bus.jsm, mesh, { historyPerSubject: -1 });
    const store = await openStore({ url: tdb.url, schema: "store_test", migrationsFolder });
    const relay = new OutboxRelay(store, outbox, new Publisher(bus.js), { idleMs: 20, publishTimeoutMs: 2_000 });
    await relay.start();

    const TOTAL = 10_000;
    const AGGREGATES = 50;
    const PER_TX = 20;
    const next = new Array<number>(AGGREGATES).fill(0);
    let written = 0;
    const restarts: number[] = [];
    while (written < TOTAL) {
      await store.db.transaction(async (tx) => {
        const batch = [];
        for (let i = 0; i < PER_TX; i++) {
          const a = (written + i) % AGGREGATES;
          const agg = `agg-${a}`;
          batch.push({ ...positioned(mesh, agg, next[a]!), aggregate: agg });
          next[a]!++;
        }
        await enqueue(tx, outbox, batch);
      });
      written += PER_TX;
      if ((written === 3_000 || written === 7_000) && restarts.length < 2) {
        await until(() => relay.published > written - 2_000, 30_000, "relay progress before restart");
        await nats.restart();
        restarts.push(written);
      }
    }
    await until(async () => (await relay.backlog()) === 0, 60_000, "outbox drained");
    await relay.stop();

    const stream = streamName(mesh, "config");
    const info = await bus.jsm.streams.info(stream);
    expect(restarts).toEqual([3_000, 7_000]);
    expect(info.state.messages).toBe(TOTAL);

    const c = await bus.js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const seen = new Map<string, number>();
    const positions = new Map<string, number[]>();
    const msgs = await c.consume({ max_messages: 2_000 });
    let n = 0;
    for await (const m of msgs) {
      const ev = JSON.parse(new TextDecoder().decode(m.data)) as { id: string; data: { name: string; spec: { position: number } } };
      seen.set(ev.id, (seen.get(ev.id) ?? 0) + 1);
      const list = positions.get(ev.data.name) ?? [];
      list.push(ev.data.spec.position);
      positions.set(ev.data.name, list);
      if (++n === TOTAL) break;
    }
    await msgs.close();
    expect(seen.size).toBe(TOTAL);
    expect([...seen.values()].every((v) => v === 1)).toBe(true);
    expect(positions.size).toBe(AGGREGATES);
    for (const [, list] of positions) expect(list).toEqual(list.map((_, i) => i));

    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
    await bus.close();
    await store.close();
  }, 180_000);
});
