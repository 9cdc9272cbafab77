import { type CloudEvent, decodeEvent, type EventDef, isTombstone } from "@isthmus/events";
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { type Counter, metrics } from "@opentelemetry/api";

const rejectedCounter: Counter = metrics.getMeter("@isthmus/bus").createCounter("isthmus_bus_events_rejected_total", {
  description: "messages a state reader refused: undecodable, or on a subject their data does not name",
});

export type StateItem =
  | { kind: "state"; subject: string; seq: number; event: CloudEvent; def: EventDef | undefined; msgId: string | undefined }
  | { kind: "deleted"; subject: string; seq: number; event: CloudEvent; msgId: string | undefined }
  | { kind: "invalid"; subject: string; seq: number; reason: string; msg: JsMsg }
  | { kind: "caught-up" };

export interface StateReaderOptions {
  stream: string;
  /** Subject filter within the stream (one subject; NATS 2.9 takes a single filter). */
  filter: string;
}

/**
 * Rebuilds current state from a state stream: the last message of every subject
 * (deliver-last-per-subject), then one `caught-up`, then live updates in stream order.
 * An ordered consumer: it recreates itself after a disconnect and resumes where it was.
 */
export class StateReader implements AsyncIterable<StateItem> {
  private messages: ConsumerMessages | undefined;
  private closed = false;
  private live = false;
  /** Messages yielded as `invalid` (undecodable, or on a subject their data does not name). */
  rejected = 0;
  /** Times its consumer was found gone (deleted, or lost with a server) and recreated where it was. */
  recreated = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: StateReaderOptions,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<StateItem> {
    const consumer = await this.js.consumers.get(this.opts.stream, {
      filter_subjects: this.opts.filter,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const info = await consumer.info(true);
    let caughtUp = info.num_pending === 0;
    if (caughtUp) yield { kind: "caught-up" };
    if (this.closed) return;
    // Short pulls: a deleted consumer is noticed (missed heartbeats) and recreated within seconds.
    this.messages = await consumer.consume({ max_messages: 2048, expires: 5_000 });
    this.live = true;
    void this.watch(this.messages);
    try {
      for await (const m of this.messages) {
        this.live = true;
        const item = toItem(m);
        if (item.kind === "invalid") {
          this.rejected++;
          rejectedCounter.add(1, { stream: this.opts.stream });
        }
        yield item;
        if (!caughtUp && m.info.pending === 0) {
          caughtUp = true;
          yield { kind: "caught-up" };
        }
      }
    } finally {
      this.live = false;
      await this.messages.close().catch(() => {});
    }
  }

  /**
   * For readiness: consuming now. False while its consumer is gone (deleted, server lost)
   * until the ordered consumer has recreated itself where it was.
   */
  get following(): boolean {
    return this.live && !this.closed;
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (s.type === "heartbeats_missed" || s.type === "consumer_deleted" || s.type === "consumer_not_found" || s.type === "stream_not_found")
        this.live = false;
      else if (s.type === "ordered_consumer_recreated") {
        this.live = true;
        this.recreated++;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.messages?.close().catch(() => {});
  }
}

function toItem(m: JsMsg): StateItem {
  const r = decodeEvent(m.data, m.subject);
  if (!r.ok) return { kind: "invalid", subject: m.subject, seq: m.seq, reason: r.reason, msg: m };
  const msgId = m.headers?.get("Nats-Msg-Id") || undefined;
  if (isTombstone(r.event)) return { kind: "deleted", subject: m.subject, seq: m.seq, event: r.event, msgId };
  return { kind: "state", subject: m.subject, seq: m.seq, event: r.event, def: r.def, msgId };
}
