import type { MsgHdrs } from "@nats-io/transport-node";
import { type Context, context, propagation, type Span, SpanKind, trace } from "@opentelemetry/api";

const tracer = () => trace.getTracer("@isthmus/bus");

/** Write the active (or given) trace context into a plain record: kept in outbox rows. */
export function currentTraceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

export function injectTrace(h: MsgHdrs, ctx: Context = context.active()): void {
  propagation.inject(ctx, h, { set: (c, k, v) => c.set(k, v) });
}

export function extractTrace(h: MsgHdrs | undefined): Context {
  if (!h) return context.active();
  return propagation.extract(context.active(), h, {
    keys: (c) => c.keys(),
    get: (c, k) => (c.has(k) ? c.get(k) : undefined),
  });
}

/** Run fn in a CONSUMER span whose parent is the trace carried by the message. */
export function withConsumerSpan<T>(name: string, h: MsgHdrs | undefined, attrs: Record<string, string | number>, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = extractTrace(h);
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes: { "messaging.system": "nats", ...attrs } }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      throw err;
    } finally {
      span.end();
    }
  });
}

export function withProducerSpan<T>(name: string, attrs: Record<string, string | number>, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes: { "messaging.system": "nats", ...attrs } }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      throw err;
    } finally {
      span.end();
    }
  });
}
