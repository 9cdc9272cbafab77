import { type BusLogger, currentTraceHeaders, type Publisher, silentLogger } from "@isthmus/bus";
import { type CloudEvent, encodeEvent } from "@isthmus/events";
import { asc, inArray, isNull, lt, sql } from "drizzle-orm";
import { bigserial, getTableConfig, index, jsonb, type PgSchema, text, timestamp } from "drizzle-orm/pg-core";
import type { Executor } from "./database.js";
import type { Store } from "./open.js";

/** The outbox table, in the service's own schema (include it in the service's drizzle schema). */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    "outbox",
    {
      id: bigserial("id", { mode: "number" }).primaryKey(),
      /** Nats-Msg-Id: the event id, or a content hash for state snapshots. */
      msgId: text("msg_id").notNull(),
      /** Events of one aggregate are published in id order; different aggregates in parallel. */
      aggregate: text("aggregate").notNull(),
      subject: text("subject").notNull(),
      /** The encoded CloudEvent, exactly the bytes that will be sent. */
      payload: text("payload").notNull(),
      /** Trace context (and any other headers) captured when the row was written. */
      headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
      createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
      sentAt: timestamp("sent_at", { withTimezone: true }),
    },
    (t) => [index("outbox_unsent_idx").on(t.id).where(sql`${t.sentAt} is null`)],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;

export interface OutboxEntry {
  subject: string;
  event: CloudEvent;
  /** Ordering key; defaults to the subject (one entity). */
  aggregate?: string;
  msgId?: string;
}

export function outboxChannel(outbox: OutboxTable): string {
  return `isthmus_outbox_${getTableConfig(outbox).schema ?? "public"}`;
}

/** The outbox rows for some events, exactly as `enqueue` writes them (for callers that write them in a statement of their own). */
export function outboxRows(
  entries: OutboxEntry[],
): Array<{ msgId: string; aggregate: string; subject: string; payload: string; headers: Record<string, string> }> {
  const headers = currentTraceHeaders();
  const dec = new TextDecoder();
  return entries.map((e) => ({
    msgId: e.msgId ?? e.event.id,
    aggregate: e.aggregate ?? e.subject,
    subject: e.subject,
    payload: dec.decode(encodeEvent(e.event)),
    headers,
  }));
}

/** Write events in the caller's transaction: they are published if and only if it commits. */
export async function enqueue(tx: Executor, outbox: OutboxTable, entries: OutboxEntry | OutboxEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (!list.length) return;
  await tx.insert(outbox).values(outboxRows(list));
  // Delivered at commit; wakes the relay without waiting for its poll.
  await tx.execute(sql`select pg_notify(${outboxChannel(outbox)}, '')`);
}

export interface RelayOptions {
  batchSize?: number;
  /** Aggregates published concurrently. */
  concurrency?: number;
  /** Poll interval when idle (NOTIFY usually wakes it first). */
  idleMs?: number;
  /** Delete sent rows older than this. */
  retainSentMs?: number;
  log?: BusLogger;
  /** Publish timeout per event. */
  publishTimeoutMs?: number;
}

type Row = { id: number; msgId: string; aggregate: string; subject: string; payload: string; headers: Record<string, string> };

/**
 * Publishes the outbox in order per aggregate and marks rows sent. One relay per schema
 * holds the leader lock; on a NATS outage it backs off and resumes at the first unsent
 * row; a row published but not yet marked is sent again and dropped by the server's
 * duplicate window (same Nats-Msg-Id).
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly enc = new TextEncoder();
  published = 0;
  lastError: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly outbox: OutboxTable,
    private readonly publisher: Publisher,
    private readonly opts: RelayOptions = {},
  ) {}

  private get log(): BusLogger {
    return this.opts.log ?? silentLogger;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unlisten = await this.store.listen(outboxChannel(this.outbox), () => this.kick()).catch(() => undefined);
    this.loop = this.run();
  }

  /** Publish now rather than at the next poll. */
  kick(): void {
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const lock = this.store.leaderLock(`isthmus:outbox:${outboxChannel(this.outbox)}`);
    let backoff = 100;
    let lastPrune = 0;
    while (this.running) {
      try {
        if (!(await lock.tryAcquire())) {
          await this.sleep(1_000);
          continue;
        }
        const n = await this.relayBatch();
        backoff = 100;
        this.lastError = undefined;
        if (Date.now() - lastPrune > 60_000) {
          lastPrune = Date.now();
          await this.prune();
        }
        if (n < (this.opts.batchSize ?? 1_000)) await this.sleep(this.opts.idleMs ?? 250);
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log.warn({ err: this.lastError, backoffMs: backoff }, "outbox relay: publish or database failed; retrying");
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
    await lock.release();
  }

  /** One batch: returns how many rows were read. Throws after marking what did get out. */
  private async relayBatch(): Promise<number> {
    const rows = (await this.store.db
      .select({
        id: this.outbox.id,
        msgId: this.outbox.msgId,
        aggregate: this.outbox.aggregate,
        subject: this.outbox.subject,
        payload: this.outbox.payload,
        headers: this.outbox.headers,
      })
      .from(this.outbox)
      .where(isNull(this.outbox.sentAt))
      .orderBy(asc(this.outbox.id))
      .limit(this.opts.batchSize ?? 1_000)) as Row[];
    if (!rows.length) return 0;

    const byAggregate = new Map<string, Row[]>();
    for (const r of rows) {
      const list = byAggregate.get(r.aggregate);
      if (list) list.push(r);
      else byAggregate.set(r.aggregate, [r]);
    }
    const sent: number[] = [];
    let failure: unknown;
    const queues = [...byAggregate.values()];
    let next = 0;
    // Within an aggregate strictly one at a time: a failed publish stops that aggregate,
    // so nothing after it can overtake it when it is retried.
    const worker = async () => {
      while (next < queues.length && failure === undefined) {
        const q = queues[next++] as Row[];
        for (const r of q) {
          try {
            const o = { msgId: r.msgId, headers: r.headers } as { msgId: string; headers: Record<string, string>; timeoutMs?: number };
            if (this.opts.publishTimeoutMs) o.timeoutMs = this.opts.publishTimeoutMs;
            await this.publisher.publishEncoded(r.subject, this.enc.encode(r.payload), r.msgId, o);
            sent.push(r.id);
          } catch (err) {
            failure ??= err;
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 64, queues.length) }, worker));
    if (sent.length) {
      await this.store.db.update(this.outbox).set({ sentAt: new Date() }).where(inArray(this.outbox.id, sent));
      this.published += sent.length;
    }
    if (failure !== undefined) throw failure;
    return rows.length;
  }

  private async prune(): Promise<void> {
    const cutoff = new Date(Date.now() - (this.opts.retainSentMs ?? 3_600_000));
    await this.store.db.delete(this.outbox).where(lt(this.outbox.sentAt, cutoff));
  }

  /** Unsent rows (for readiness and metrics). */
  async backlog(): Promise<number> {
    const [r] = await this.store.db.select({ n: sql<number>`count(*)::int` }).from(this.outbox).where(isNull(this.outbox.sentAt));
    return r?.n ?? 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
    await this.unlisten?.().catch(() => {});
  }
}
