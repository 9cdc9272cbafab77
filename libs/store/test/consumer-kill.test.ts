import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Bus, meshStreamSpecs, Publisher, provisionMeshStreams } from "@isthmus/bus";
import { createTestDatabase, type TestDatabase, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { count, countDistinct } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { applications } from "./fixture/schema.js";
import { migrationsFolder, positioned, until } from "./helpers.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const child = fileURLToPath(new URL("./fixture/consumer-child.ts", import.meta.url));

let tdb: TestDatabase;
let store: Store;
let bus: Bus;
const mesh = uniqueMeshId("kill");
beforeAll(async () => {
  tdb = await createTestDatabase();
  store = await openStore({ url: tdb.url, schema: "store_test", migrationsFolder });
  bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
  await provisionMeshStreams(bus.jsm, mesh, { historyPerSubject: -1 });
});
afterAll(async () => {
  for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  await bus.close();
  await store.close();
  await tdb.drop();
});

function startConsumer(): Promise<ChildProcess> {
  const p = spawn(process.execPath, ["--conditions=source", "--import", "tsx", child], {
    cwd: repoRoot,
    env: { ...process.env, MESH: mesh, DURABLE: "killable", CHILD_DATABASE_URL: tdb.url, MIGRATIONS: migrationsFolder },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  p.stderr?.on("data", (b) => {
    err += b;
  });
  return new Promise((resolve, reject) => {
    p.stdout?.on("data", (b: Buffer) => b.toString().includes("ready") && resolve(p));
    p.once("exit", (code) => reject(new Error(`consumer exited (${code}) before ready: ${err}`)));
  });
}

async function counts(): Promise<{ rows: number; distinct: number }> {
  const [r] = await store.db.select({ rows: count(), distinct: countDistinct(applications.eventId) }).from(applications);
  return { rows: r?.rows ?? 0, distinct: r?.distinct ?? 0 };
}

describe("consumer killed with SIGKILL mid-batch", () => {
  it("resumes on restart with no event lost and none applied twice", async () => {
    const TOTAL = 3_000;
    const items = [];
    for (let i = 0; i < TOTAL; i++) items.push(positioned(mesh, `agg-${i % 10}`, Math.floor(i / 10)));
    await new Publisher(bus.js).publishWindowed(items, 256);

    let proc = await startConsumer();
    await until(async () => (await counts()).distinct >= 600, 60_000, "first consumer progress");
    proc.kill("SIGKILL");
    await new Promise((r) => proc.once("exit", r));
    const atKill = (await counts()).distinct;
    expect(atKill).toBeLessThan(TOTAL); // killed mid-way, with a pulled batch unacked

    proc = await startConsumer();
    await until(async () => (await counts()).distinct === TOTAL, 90_000, "all events applied");
    // Give redeliveries of already-applied messages time to arrive and be skipped.
    await new Promise((r) => setTimeout(r, 2_500));
    proc.kill("SIGTERM");
    const final = await counts();
    expect(final).toEqual({ rows: TOTAL, distinct: TOTAL });
  }, 180_000);
});
