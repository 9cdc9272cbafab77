import { type Bus, meshStreamSpecs, Publisher, provisionMeshStreams } from "@isthmus/bus";
import { streamName } from "@isthmus/events";
import { DeliverPolicy } from "@nats-io/jetstream";
import { enqueue, OutboxRelay, openStore } from "../src/index.js";
import { outbox } from "./fixture/schema.js";
import { migrationsFolder, positioned, until } from "./helpers.js";

export interface RelayRun {
  /** Events written to the outbox (and expected on the stream). */
  total: number;
  aggregates: number;
  /** Faults injected (where the writer was when each happened). */
  faults: number[];
  /** Messages on the stream at the end, and its replica count. */
  onStream: number;
  replicas: number;
  /** Distinct event ids read back, and how many of them came more than once. */
  distinct: number;
  duplicated: number;
  /** Aggregates whose positions came back out of order. */
  outOfOrder: number;
  /** Longest wait of the writer for the relay to move again after a fault. */
  recoveryMs: number;
}

/**
 * 10,000 events of 50 aggregates written to the outbox 20 per transaction while the relay
 * publishes them; at 3,000 and 7,000 written, `fault` hits NATS. Then the whole stream is
 * read back to count what arrived, how often, and in which order per aggregate.
 */
export async function relayThroughFaults(o: { bus: Bus; mesh: string; databaseUrl: string; replicas?: number; fault: () => Promise<void> }): Promise<RelayRun> {
  const { bus, mesh } = o;
  // Every event kept (no per-subject cap) so the run can see the whole history.
  await provisionMeshStreams(bus.jsm, mesh, { historyPerSubject: -1, ...(o.replicas ? { replicas: o.replicas } : {}) });
  const store = await openStore({ url: o.databaseUrl, schema: "store_test", migrationsFolder });
  const relay = new OutboxRelay(store, outbox, new Publisher(bus.js), { idleMs: 20, publishTimeoutMs: 2_000 });
  await relay.start();

  const TOTAL = 10_000;
  const AGGREGATES = 50;
  const PER_TX = 20;
  const next = new Array<number>(AGGREGATES).fill(0);
  let written = 0;
  const faults: number[] = [];
  let recoveryMs = 0;
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
    if ((written === 3_000 || written === 7_000) && faults.length < 2) {
      await until(() => relay.published > written - 2_000, 30_000, "relay progress before the fault");
      await o.fault();
      const at = relay.published;
      const t = Date.now();
      await until(() => relay.published > at, 60_000, "relay progress after the fault").catch((err: Error) => {
        throw new Error(`${err.message} (relay's last error: ${relay.lastError ?? "none"})`);
      });
      recoveryMs = Math.max(recoveryMs, Date.now() - t);
      faults.push(written);
    }
  }
  await until(async () => (await relay.backlog()) === 0, 60_000, "outbox drained");
  await relay.stop();
  await store.close();

  const stream = streamName(mesh, "config");
  const info = await bus.jsm.streams.info(stream);
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
    if (++n === info.state.messages) break;
  }
  await msgs.close();
  for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  return {
    total: TOTAL,
    aggregates: positions.size,
    faults,
    onStream: info.state.messages,
    replicas: info.config.num_replicas,
    distinct: seen.size,
    duplicated: [...seen.values()].filter((v) => v > 1).length,
    outOfOrder: [...positions.values()].filter((list) => list.some((p, i) => p !== i)).length,
    recoveryMs,
  };
}
