import { type CloudEvent, encodeEvent } from "@isthmus/events";
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from "@nats-io/jetstream";
import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { PublishUnavailableError, publishBackoffMs, transientPublishFailure } from "./publish-retry.js";
import { injectTrace, withProducerSpan } from "./trace.js";

export interface PublishOptions {
  /** Nats-Msg-Id; defaults to the event id so a retried publish is dropped by the server. */
  msgId?: string;
  /** Optimistic concurrency: the subject's last sequence must be this (0 = no message yet). */
  expectLastSubjectSequence?: number;
  /** Extra headers (e.g. a stored trace context from an outbox row). */
  headers?: Record<string, string>;
  /** Ack timeout of one attempt (default 5 s, never past the retry deadline). */
  timeoutMs?: number;
}

export interface PublisherOptions {
  /**
   * How long a publish keeps retrying, with the same Nats-Msg-Id, through a leader
   * election or a reconnect to another node (default 15 s; 0 = one attempt). Past it the
   * publish fails with a PublishUnavailableError naming the reason.
   */
  retryForMs?: number;
}

function buildHeaders(extra: Record<string, string> | undefined): MsgHdrs {
  const h = headers();
  h.set("Content-Type", "application/cloudevents+json");
  if (extra) for (const k in extra) h.set(k, extra[k] as string);
  if (!extra?.traceparent) injectTrace(h);
  return h;
}

function jsOptions(msgId: string, o: PublishOptions | undefined, h: MsgHdrs, timeoutMs: number): Partial<JetStreamPublishOptions> {
  const opts: Partial<JetStreamPublishOptions> = { msgID: msgId, headers: h, timeout: timeoutMs };
  if (o?.expectLastSubjectSequence !== undefined) opts.expect = { lastSubjectSequence: o.expectLastSubjectSequence };
  return opts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Publish CloudEvents to JetStream with idempotency, optimistic concurrency and trace
 * context. A publish the cluster could not take right now (no stream leader, a node lost
 * under the connection, a lost ack) is sent again with the same Nats-Msg-Id, so the
 * server's duplicate window keeps it once.
 */
export class Publisher {
  private readonly retryForMs: number;

  constructor(
    private readonly js: JetStreamClient,
    o: PublisherOptions = {},
  ) {
    this.retryForMs = o.retryForMs ?? 15_000;
  }

  publish(subject: string, event: CloudEvent, o?: PublishOptions): Promise<PubAck> {
    return this.publishEncoded(subject, encodeEvent(event), o?.msgId ?? event.id, o);
  }

  /** For already-encoded events (outbox rows keep the bytes they will send). */
  publishEncoded(subject: string, bytes: Uint8Array, msgId: string, o?: PublishOptions): Promise<PubAck> {
    return withProducerSpan("publish", { "messaging.destination.name": subject, "messaging.message.id": msgId }, () => {
      const h = buildHeaders(o?.headers);
      return this.withRetry(subject, msgId, (timeoutMs) => this.js.publish(subject, bytes, jsOptions(msgId, o, h, timeoutMs)), o?.timeoutMs ?? 5_000);
    });
  }

  private async withRetry(subject: string, msgId: string, attempt: (timeoutMs: number) => Promise<PubAck>, timeoutMs: number): Promise<PubAck> {
    const start = Date.now();
    const deadline = start + this.retryForMs;
    for (let n = 1; ; n++) {
      try {
        // The first attempt has its whole timeout; retries only what is left of the deadline.
        return await attempt(n === 1 ? timeoutMs : Math.max(1, Math.min(timeoutMs, deadline - Date.now())));
      } catch (err) {
        const reason = transientPublishFailure(err);
        if (reason === undefined) throw err;
        const wait = publishBackoffMs(n);
        if (Date.now() + wait >= deadline) throw new PublishUnavailableError(subject, msgId, n, Date.now() - start, reason);
        await sleep(wait);
      }
    }
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
