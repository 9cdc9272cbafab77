import { type CloudEvent, type Domain, decodeEvent, domainFilter, type EventDef, streamName } from "@isthmus/events";
import { AckPolicy, type ConsumerConfig, type ConsumerMessages, DeliverPolicy, JetStreamApiError, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { Bus } from "./connect.js";
import { deadLetter, deadLetterSubject } from "./dead-letter.js";
import { type BusLogger, silentLogger } from "./logger.js";
import { withConsumerSpan } from "./trace.js";

export interface DurableSpec {
  mesh: string;
  domain: Domain;
  /** Durable name: one per consuming service (replicas share it and split the work). */
  durable: string;
  /** Subject filter within the domain stream (default: the whole domain). */
  filter?: string;
  ackWaitMs?: number;
  /** Attempts (in place, and deliveries after crashes) before a message is dead-lettered. */
  maxDeliver?: number;
  /** Delay before attempt n+1, by n (the last value repeats). */
  backoffMs?: number[];
  maxAckPending?: number;
  deliverPolicy?: "all" | "new" | "last_per_subject";
}

/** Thrown by a handler for input that can never succeed: dead-lettered at once, no retry. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

export interface HandlerContext {
  msg: JsMsg;
  def: EventDef | undefined;
  subject: string;
  seq: number;
  deliveryCount: number;
}

export type EventHandler = (event: CloudEvent, ctx: HandlerContext) => Promise<void>;

const DEFAULTS = { ackWaitMs: 30_000, maxDeliver: 5, backoffMs: [250, 1_000, 5_000, 15_000], maxAckPending: 1_000 };

function consumerConfig(spec: DurableSpec): Partial<ConsumerConfig> {
  return {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(spec.ackWaitMs ?? DEFAULTS.ackWaitMs),
    // Unlimited on the server: the consumer itself decides when to dead-letter, so a
    // message that crashes the process every time still ends in the DLQ with a reason.
    max_deliver: -1,
    max_ack_pending: spec.maxAckPending ?? DEFAULTS.maxAckPending,
    filter_subject: spec.filter ?? domainFilter(spec.mesh, spec.domain),
    deliver_policy:
      spec.deliverPolicy === "new" ? DeliverPolicy.New : spec.deliverPolicy === "last_per_subject" ? DeliverPolicy.LastPerSubject : DeliverPolicy.All,
  };
}

/** Create the durable consumer, or bring its mutable settings up to date. */
export async function ensureDurable(jsm: JetStreamManager, spec: DurableSpec): Promise<"created" | "updated"> {
  const stream = streamName(spec.mesh, spec.domain);
  const cfg = consumerConfig(spec);
  try {
    await jsm.consumers.info(stream, spec.durable);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10014) {
      await jsm.consumers.add(stream, cfg);
      return "created";
    }
    throw err;
  }
  const { ack_wait, max_ack_pending, max_deliver } = cfg;
  await jsm.consumers.update(stream, spec.durable, { ack_wait, max_ack_pending, max_deliver } as Partial<ConsumerConfig>);
  return "updated";
}

/**
 * Applies events from a durable consumer one at a time, in order. A handler that
 * resolves acks; one that throws is retried in place with backoff, then dead-lettered
 * with the reason; what does not decode is dead-lettered at once. Never throws out of
 * the loop.
 */
export class DurableConsumer {
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private live = false;
  /** Times the durable was found gone (deleted by someone) and created again. */
  recreated = 0;
  readonly done: Promise<void>;
  private readonly dlqSubject: string;
  private readonly maxDeliver: number;
  private readonly backoff: number[];

  private constructor(
    private readonly bus: Bus,
    private readonly spec: DurableSpec,
    private readonly handler: EventHandler,
    private readonly log: BusLogger,
    started: () => void,
  ) {
    this.dlqSubject = deadLetterSubject(spec.mesh, spec.domain, spec.durable);
    this.maxDeliver = spec.maxDeliver ?? DEFAULTS.maxDeliver;
    this.backoff = spec.backoffMs ?? DEFAULTS.backoffMs;
    this.done = this.run(started);
  }

  static async start(bus: Bus, spec: DurableSpec, handler: EventHandler, log: BusLogger = silentLogger): Promise<DurableConsumer> {
    await ensureDurable(bus.jsm, spec);
    let started!: () => void;
    const ready = new Promise<void>((r) => {
      started = r;
    });
    const c = new DurableConsumer(bus, spec, handler, log, started);
    await Promise.race([ready, c.done]);
    return c;
  }

  /** For readiness: pulling from the durable now (false while it is gone or being re-established). */
  get following(): boolean {
    return this.live && !this.stopping;
  }

  private async run(started: () => void): Promise<void> {
    const stream = streamName(this.spec.mesh, this.spec.domain);
    while (!this.stopping) {
      try {
        const consumer = await this.bus.js.consumers.get(stream, this.spec.durable);
        // A deleted durable ends the iteration instead of being retried forever in silence.
        this.messages = await consumer.consume({ max_messages: 256, abort_on_missing_resource: true });
        this.live = true;
        started();
        void this.watch(this.messages);
        for await (const m of this.messages) {
          this.live = true;
          await this.handle(m);
          if (this.stopping) break;
        }
        if (this.stopping) break;
        this.live = false;
        await this.reestablish(stream, undefined);
      } catch (err) {
        this.live = false;
        if (this.stopping) break;
        await this.reestablish(stream, err);
      }
    }
    started();
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      // Gone, not merely quiet: missed heartbeats alone recover by themselves and say nothing when they do.
      if (s.type === "consumer_deleted" || s.type === "consumer_not_found" || s.type === "stream_not_found") this.live = false;
    }
  }

  /** After an interruption: create the durable again when it is gone (and say so), then resume. */
  private async reestablish(stream: string, err: unknown): Promise<void> {
    try {
      if ((await ensureDurable(this.bus.jsm, this.spec)) === "created") {
        this.recreated++;
        this.log.warn({ stream, durable: this.spec.durable, recreated: this.recreated }, "durable consumer had disappeared; recreated it");
        return;
      }
    } catch (e) {
      this.log.error({ err: String(e), stream, durable: this.spec.durable }, "durable consumer cannot be re-established; retrying");
    }
    if (err) this.log.warn({ err, stream, durable: this.spec.durable }, "consumer interrupted; restarting");
    await new Promise((r) => setTimeout(r, 1_000));
  }

  private async handle(m: JsMsg): Promise<void> {
    const decoded = decodeEvent(m.data, m.subject);
    if (!decoded.ok) return this.toDeadLetter(m, `malformed: ${decoded.reason}`);
    const deliveries = m.info.deliveryCount;
    if (deliveries > this.maxDeliver) {
      return this.toDeadLetter(m, `not acknowledged after ${deliveries - 1} deliveries (consumer crashed or timed out each time)`);
    }
    const ctx: HandlerContext = { msg: m, def: decoded.def, subject: m.subject, seq: m.seq, deliveryCount: deliveries };
    // Retries happen in place, holding the line: a later event for the same entity must
    // never be applied before an earlier one that is still failing.
    for (let attempt = 1; ; attempt++) {
      try {
        await withConsumerSpan(
          `process ${decoded.event.type}`,
          m.headers,
          { "messaging.destination.name": m.subject, "messaging.consumer.group.name": this.spec.durable },
          () => this.handler(decoded.event, ctx),
        );
        m.ack();
        return;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (err instanceof PermanentError) return this.toDeadLetter(m, `rejected: ${reason}`);
        if (attempt >= this.maxDeliver || this.stopping) {
          if (this.stopping) return m.nak();
          return this.toDeadLetter(m, `failed ${attempt} times; last error: ${reason}`);
        }
        const delay = this.backoff[Math.min(attempt - 1, this.backoff.length - 1)] ?? 1_000;
        this.log.warn({ subject: m.subject, seq: m.seq, attempt, delay, err: reason }, "handler failed; retrying");
        m.working();
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async toDeadLetter(m: JsMsg, reason: string): Promise<void> {
    try {
      await deadLetter(this.bus.js, this.dlqSubject, m, this.spec.durable, reason);
      this.log.warn({ subject: m.subject, seq: m.seq, dlq: this.dlqSubject, reason }, "dead-lettered");
      m.term(reason.slice(0, 256));
    } catch (err) {
      // The dead-letter stream is unreachable: keep the message rather than lose it.
      this.log.error({ err, subject: m.subject, seq: m.seq }, "dead-letter publish failed; will retry");
      m.nak(1_000);
    }
  }

  /** Stop pulling, let the message in hand finish and be acked. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close().catch(() => {});
    await this.done;
  }
}
