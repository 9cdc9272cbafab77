import { Bus, meshStreamSpecs, Publisher, provisionMeshStreams, StateReader } from "@isthmus/bus";
import { streamName } from "@isthmus/events";
import { createTestDatabase, type TestDatabase, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyOnce, enqueue, OutboxRelay, openStore, query, sql } from "../src/index.js";
import { applications, inbox, outbox } from "./fixture/schema.js";
import { migrationsFolder, positioned, until } from "./helpers.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb.drop();
});

describe("openStore", () => {
  it("migrates once even when several replicas start together (Postgres)", async () => {
    const stores = await Promise.all([1, 2, 3].map(() => openStore({ url: tdb.url, schema: "store_test", migrationsFolder })));
    const rows = await query(stores[0]!.db, sql`select count(*)::int as n from isthmus_migrations.store_test`);
    expect(rows[0]?.n).toBe(1);
    expect(await stores[0]!.ping()).toBe(true);
    const tables = await query(stores[0]!.db, sql`select table_name from information_schema.tables where table_schema = 'store_test' order by 1`);
    expect(tables.map((r) => r.table_name)).toEqual(["applications", "inbox", "outbox"]);
    await Promise.all(stores.map((s) => s.close()));
  });

  it("runs embedded on PGlite when no URL is given", async () => {
    const store = await openStore({ schema: "store_test", migrationsFolder });
    expect(store.kind).toBe("pglite");
    await store.db.insert(applications).values({ eventId: "e", aggregate: "a", position: 0 });
    const [r] = await store.db.select({ n: count() }).from(applications);
    expect(r?.n).toBe(1);
    await store.close();
  });

  it("rejects a schema name that is not an identifier", async () => {
    await expect(openStore({ schema: "x; drop", migrationsFolder })).rejects.toThrow(/invalid schema name/);
  });
});

describe("inbox", () => {
  it("applies an event once per consumer, and rolls back with the effect", async () => {
    const store = await openStore({ url: tdb.url, schema: "store_test", migrationsFolder });
    const apply = (id: string) => (tx: Parameters<Parameters<typeof applyOnce>[4]>[0]) =>
      tx
        .insert(applications)
        .values({ eventId: id, aggregate: "a", position: 1 })
        .then(() => {});
    expect(await applyOnce(store.db, inbox, "c1", "ev-1", apply("ev-1"))).toBe(true);
    expect(await applyOnce(store.db, inbox, "c1", "ev-1", apply("ev-1"))).toBe(false);
    expect(await applyOnce(store.db, inbox, "c2", "ev-1", apply("ev-1"))).toBe(true);
    await expect(
      applyOnce(store.db, inbox, "c1", "ev-2", async () => {
        throw new Error("effect failed");
      }),
    ).rejects.toThrow("effect failed");
    // The failed attempt left no inbox row: a retry applies it.
    expect(await applyOnce(store.db, inbox, "c1", "ev-2", apply("ev-2"))).toBe(true);
    const rows = await store.db.select().from(applications).where(eq(applications.eventId, "ev-1"));
    expect(rows).toHaveLength(2);
    await store.close();
  });
});

describe("outbox", () => {
  it("publishes committed events only, with the row's msg id, on both drivers", async () => {
    const mesh = uniqueMeshId("outbox");
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    await provisionMeshStreams(bus.jsm, mesh);
    for (const store of [
      await openStore({ schema: "store_test", migrationsFolder }),
      await openStore({ url: tdb.url, schema: "store_test", migrationsFolder }),
    ]) {
      const relay = new OutboxRelay(store, outbox, new Publisher(bus.js), { idleMs: 50 });
      await relay.start();
      const agg = `agg-${store.kind}`;
      await store.db.transaction(async (tx) => {
        await enqueue(
          tx,
          outbox,
          [0, 1, 2].map((p) => ({ ...positioned(mesh, agg, p) })),
        );
      });
      await expect(
        store.db.transaction(async (tx) => {
          await enqueue(tx, outbox, positioned(mesh, agg, 99));
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
      await until(async () => (await relay.backlog()) === 0 && relay.published >= 3, 10_000, "relay drained");
      await relay.stop();
      await store.close();
    }
    const info = await bus.jsm.streams.info(streamName(mesh, "config"));
    expect(info.state.messages).toBe(6);
    const reader = new StateReader(bus.js, { stream: streamName(mesh, "config"), filter: `mesh.${mesh}.config.>` });
    const positions: number[] = [];
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      if (it.kind === "state") positions.push((it.event.data as { spec: { position: number } }).spec.position);
    }
    await reader.close();
    expect(positions).toEqual([2, 2]); // the last of each aggregate; 99 never left the rolled-back transaction
    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
    await bus.close();
  });
});
