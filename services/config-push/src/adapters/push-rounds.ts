import { type Link, propagation, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { xdsMetrics } from "./xds-metrics.js";

const tracer = () => trace.getTracer("config-push");

/** At most this many causes are linked from one push's span. */
const MAX_LINKS = 32;

/** A link to the trace an event carries in its `traceparent`, if it carries one. */
export function linkOf(traceparent: string | undefined): Link | undefined {
  if (!traceparent) return undefined;
  const ctx = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
  return ctx && trace.isSpanContextValid(ctx) ? { context: ctx } : undefined;
}

interface Round {
  span: Span;
  /** performance.now() of the first change the round carries. */
  firstChangeAt: number;
  /** performance.now() once translation ended and proxies were queued. */
  queuedAt: number;
  waiting: Set<object>;
  unacked: Set<object>;
  sealed: boolean;
  sentMarked: boolean;
  proxies: number;
  timer?: NodeJS.Timeout;
}

/**
 * One push (a rebuild that changed something) followed from its cause to the last ACK: an
 * OpenTelemetry span linked to the traces of the events that caused it, with the events
 * debounce → translate → sent → acked, and each proxy's convergence time. A proxy pushed
 * again before it answered moves to the newer round; a round still waiting after
 * `maxOpenMs` ends with the number of proxies that never answered.
 */
export class PushRounds {
  private readonly of = new Map<object, Round>();
  private pendingLinks: Link[] = [];
  private firstChangeAt = 0;
  private current: Round | undefined;

  constructor(private readonly maxOpenMs = 30_000) {}

  /** A change entered the debounce. */
  changed(traceparent: string | undefined): void {
    if (!this.firstChangeAt) this.firstChangeAt = performance.now();
    const link = linkOf(traceparent);
    if (link && this.pendingLinks.length < MAX_LINKS) this.pendingLinks.push(link);
  }

  /** The debounce ended: a rebuild starts, and the proxies it queues belong to a new round. */
  begin(): void {
    const now = performance.now();
    const first = this.firstChangeAt || now;
    xdsMetrics.debounced((now - first) / 1000);
    const span = tracer().startSpan("xds push", {
      startTime: performance.timeOrigin + first,
      links: this.pendingLinks,
      root: true,
    });
    span.addEvent("debounce", { "xds.debounce_ms": now - first }, performance.timeOrigin + now);
    this.pendingLinks = [];
    this.firstChangeAt = 0;
    this.current = { span, firstChangeAt: first, queuedAt: now, waiting: new Set(), unacked: new Set(), sealed: false, sentMarked: false, proxies: 0 };
  }

  /** A proxy was queued for the current round's push. */
  assign(c: object): void {
    const r = this.current;
    if (!r) return;
    this.leave(c);
    r.waiting.add(c);
    r.proxies++;
    this.of.set(c, r);
  }

  /** Translation and queueing of the current round are over. */
  end(): void {
    const r = this.current;
    this.current = undefined;
    if (!r) return;
    r.queuedAt = performance.now();
    r.span.addEvent("translate");
    r.span.setAttribute("xds.proxies", r.proxies);
    r.sealed = true;
    r.timer = setTimeout(() => this.finish(r, true), this.maxOpenMs).unref();
    this.check(r);
  }

  /** When the push a proxy is waiting for was queued (for pilot_xds_push_time). */
  queuedAt(c: object): number | undefined {
    return this.of.get(c)?.queuedAt;
  }

  /** The push queue flushed a proxy: it was written something (an answer is now awaited) or had nothing to send. */
  flushed(c: object, wrote: boolean): void {
    const r = this.of.get(c);
    if (!r?.waiting.delete(c)) return;
    if (wrote) r.unacked.add(c);
    else this.of.delete(c);
    this.check(r);
  }

  /** A proxy answered (ACK or NACK). */
  answered(c: object): void {
    const r = this.of.get(c);
    if (!r?.unacked.delete(c)) return;
    this.of.delete(c);
    xdsMetrics.converged((performance.now() - r.firstChangeAt) / 1000);
    this.check(r);
  }

  /** A proxy went away, or was moved to a newer round. */
  leave(c: object): void {
    const r = this.of.get(c);
    if (!r) return;
    this.of.delete(c);
    r.waiting.delete(c);
    r.unacked.delete(c);
    this.check(r);
  }

  private check(r: Round): void {
    if (!r.sealed) return;
    if (!r.waiting.size && !r.sentMarked) {
      r.sentMarked = true;
      r.span.addEvent("sent");
    }
    if (!r.waiting.size && !r.unacked.size) this.finish(r, false);
  }

  private finish(r: Round, timedOut: boolean): void {
    if (!r.sealed) return;
    r.sealed = false;
    clearTimeout(r.timer);
    if (timedOut) {
      r.span.setAttribute("xds.unanswered", r.waiting.size + r.unacked.size);
      r.span.setStatus({ code: SpanStatusCode.ERROR, message: `${r.waiting.size + r.unacked.size} proxies did not answer within ${this.maxOpenMs} ms` });
      for (const c of [...r.waiting, ...r.unacked]) if (this.of.get(c) === r) this.of.delete(c);
    } else r.span.addEvent("acked");
    r.span.end();
  }

  stop(): void {
    for (const r of new Set(this.of.values())) this.finish(r, true);
    if (this.current) this.current.span.end();
    this.current = undefined;
  }
}
