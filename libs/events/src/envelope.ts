import { z } from "zod";

/**
 * CloudEvents 1.0, JSON format, structured mode. Trace context rides both in the NATS
 * headers (for the bus) and as the `traceparent` extension (for tools that only keep
 * the body).
 */
export const cloudEventSchema = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1).max(256),
  source: z.string().min(1).max(1024),
  type: z.string().regex(/^[a-z0-9_.-]+\.v[0-9]+$/, "type must end with a version such as .v1"),
  subject: z.string().max(4096).optional(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal("application/json"),
  dataschema: z.string().optional(),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
  data: z.unknown(),
});

export type CloudEvent<T = unknown> = Omit<z.infer<typeof cloudEventSchema>, "data"> & { data: T };

export interface EnvelopeOptions {
  id?: string;
  source: string;
  subject?: string;
  time?: Date;
  traceparent?: string;
  tracestate?: string;
}

export function envelope<T>(type: string, data: T, opts: EnvelopeOptions): CloudEvent<T> {
  const ev: CloudEvent<T> = {
    specversion: "1.0",
    id: opts.id ?? crypto.randomUUID(),
    source: opts.source,
    type,
    time: (opts.time ?? new Date()).toISOString(),
    datacontenttype: "application/json",
    data,
  };
  if (opts.subject !== undefined) ev.subject = opts.subject;
  if (opts.traceparent !== undefined) ev.traceparent = opts.traceparent;
  if (opts.tracestate !== undefined) ev.tracestate = opts.tracestate;
  return ev;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeEvent(ev: CloudEvent): Uint8Array {
  return encoder.encode(JSON.stringify(ev));
}

export function decodeJson(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes));
}
