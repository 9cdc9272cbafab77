import { type CloudEvent, encodeEvent } from "@isthmus/events";
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from "@nats-io/jetstream";
import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { injectTrace, withProducerSpan } from "./trace.js";

export interface PublishOptions {
  /** Nats-Msg-Id; defaults to the event id so a retried publish is dropped by the server. */
  msgId?: string;
  /** Optimistic concurrency: the subject's last sequence must be this (0 = no message yet). */
  expectLastSubjectSequence?: number;
  /** Extra headers (e.g. a stored trace context from an outbox row). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

function buildHeaders(extra: Record<string, string> | undefined): MsgHdrs {
  const h = headers();
  h.set("Content-Type", "application/cloudevents+json");
  if (extra) for (const k in extra) h.set(k, extra[k] as string);
  if (!extra?.traceparent) injectTrace(h);
  return h;
}

function jsOptions(msgId: string, o: PublishOptions | undefined, h: MsgHdrs): Partial<JetStreamPublishOptions> {
  const opts: Partial<JetStreamPublishOptions> = { msgID: msgId, headers: h };
  if (o?.expectLastSubjectSequence !== undefined) opts.expect = { lastSubjectSequence: o.expectLastSubjectSequence };
  if (o?.timeoutMs !== undefined) opts.timeout = o.timeoutMs;
  return opts;
}

/** Publish CloudEvents to JetStream with idempotency, optimistic concurrency and trace context. */
export class Publisher {
  constructor(private readonly js: JetStreamClient) {}

  publish(subject: string, event: CloudEvent, o?: PublishOptions): Promise<PubAck> {
    return this.publishEncoded(subject, encodeEvent(event), o?.msgId ?? event.id, o);
  }

  /** For already-encoded events (outbox rows keep the bytes they will send). */
  publishEncoded(subject: string, bytes: Uint8Array, msgId: string, o?: PublishOptions): Promise<PubAck> {
    return withProducerSpan("publish", { "messaging.destination.name": subject, "messaging.message.id": msgId }, () => {
      const h = buildHeaders(o?.headers);
      return this.js.publish(subject, bytes, jsOptions(msgId, o, h));
    });
  }

  /**
   * Publish many with up to `window` acks outstanding; resolves with the acks in input
   * order. For bulk loads where per-message ordering across failures does not matter.
   */
  async publishWindowed(items: ReadonlyArray<{ subject: string; event: CloudEvent; msgId?: string }>, window = 256): Promise<PubAck[]> {
    const acks: PubAck[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        const it = items[i] as { subject: string; event: CloudEvent; msgId?: string };
        acks[i] = await this.publish(it.subject, it.event, it.msgId === undefined ? undefined : { msgId: it.msgId });
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, items.length) }, worker));
    return acks;
  }
}

/**
 * Fire and forget: a core NATS publish onto a stream's subject, no ack awaited. For
 * high-volume, last-value telemetry (proxy status of thousands of proxies at each push),
 * where the next update corrects a lost one and an ack round trip per event would cost the
 * publisher more than the event is worth.
 */
export function publishBestEffort(nc: NatsConnection, subject: string, event: CloudEvent): void {
  const h = headers();
  h.set("Content-Type", "application/cloudevents+json");
  injectTrace(h);
  nc.publish(subject, encodeEvent(event), { headers: h });
}
