import { z } from "zod";
import { type CloudEvent, cloudEventSchema, decodeJson, type EnvelopeOptions, envelope } from "./envelope.js";
import { type Domain, parseSubject, subjectFor } from "./subjects.js";

/**
 * `state`: the latest message on the entity's subject is its current state (a tombstone
 * deletes it); consumers rebuild with deliver-last-per-subject.
 * `fact`: an append-only record (certificate issued, operation done).
 */
export type EventKind = "state" | "fact";

export interface EventDef<S extends z.ZodType = z.ZodType, K extends string = string> {
  readonly type: string;
  readonly domain: Domain;
  readonly kind: EventKind;
  readonly description: string;
  /** Subject tokens after `mesh.<mesh>.<domain>`: literals, and `:name` placeholders filled from keys. */
  readonly path: readonly string[];
  readonly schema: S;
  readonly keyOf: (data: z.infer<S>) => Record<K, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: any definition, whatever its schema and keys
export type AnyEventDef = EventDef<any, any>;

export type DataOf<D> = D extends EventDef<infer S> ? z.infer<S> : never;
export type KeysOf<D> = D extends EventDef<z.ZodType, infer K> ? Record<K, string> : never;

const registry = new Map<string, EventDef>();

export const TOMBSTONE_TYPE = "io.isthmus.tombstone.v1";
export const tombstoneDataSchema = z
  .object({ of: z.string().describe("the event type of the entity that was deleted"), reason: z.string().optional() })
  .describe("Deletes the entity whose subject it is published on.");
export type TombstoneData = z.infer<typeof tombstoneDataSchema>;

export function defineEvent<S extends z.ZodType, K extends string>(def: EventDef<S, K>): EventDef<S, K> {
  if (!/^io\.isthmus\.[a-z0-9_.]+\.v[0-9]+$/.test(def.type)) throw new Error(`bad event type name ${def.type}`);
  if (registry.has(def.type)) throw new Error(`event type ${def.type} is defined twice`);
  for (const t of def.path) {
    if (!t.startsWith(":") && !/^[a-z0-9_-]+$/.test(t)) throw new Error(`${def.type}: literal subject token ${t} must be [a-z0-9_-]`);
  }
  registry.set(def.type, def as unknown as EventDef);
  return def;
}

export function eventDefs(): EventDef[] {
  return [...registry.values()].sort((a, b) => a.type.localeCompare(b.type));
}

export function eventDef(type: string): EventDef | undefined {
  return registry.get(type);
}

function pathTokens(def: AnyEventDef, keys: Record<string, string>): string[] {
  return def.path.map((t) => {
    if (!t.startsWith(":")) return t;
    const v = keys[t.slice(1)];
    if (v === undefined) throw new Error(`${def.type}: missing subject key ${t.slice(1)}`);
    return v;
  });
}

/** The subject of one entity of this event type. */
export function eventSubject<D extends AnyEventDef>(def: D, mesh: string, keys: KeysOf<D>): string {
  return subjectFor(mesh, def.domain, ...pathTokens(def, keys as Record<string, string>));
}

/** The subject filter matching every entity of this event type in a mesh. */
export function eventFilter(def: AnyEventDef, mesh: string): string {
  const literal: string[] = [];
  for (const t of def.path) {
    if (t.startsWith(":")) break;
    literal.push(t);
  }
  const rest = def.path.length - literal.length;
  const base = subjectFor(mesh, def.domain, ...literal);
  return rest === 0 ? base : `${base}${".*".repeat(rest)}`;
}

export interface BuiltEvent<T> {
  subject: string;
  event: CloudEvent<T>;
}

/** Validate data against the type's schema and wrap it in an envelope addressed to its entity. */
export function buildEvent<D extends AnyEventDef>(def: D, mesh: string, data: DataOf<D>, opts: EnvelopeOptions): BuiltEvent<DataOf<D>> {
  const parsed = def.schema.safeParse(data);
  if (!parsed.success) throw new Error(`invalid ${def.type}: ${z.prettifyError(parsed.error)}`);
  const subject = eventSubject(def, mesh, def.keyOf(parsed.data) as KeysOf<D>);
  return { subject, event: envelope(def.type, parsed.data as DataOf<D>, opts) };
}

export function buildTombstone<D extends AnyEventDef>(
  def: D,
  mesh: string,
  keys: KeysOf<D>,
  opts: EnvelopeOptions & { reason?: string },
): BuiltEvent<TombstoneData> {
  const { reason, ...env } = opts;
  const data: TombstoneData = reason === undefined ? { of: def.type } : { of: def.type, reason };
  return { subject: eventSubject(def, mesh, keys), event: envelope(TOMBSTONE_TYPE, data, env) };
}

export function isTombstone(ev: CloudEvent): ev is CloudEvent<TombstoneData> {
  return ev.type === TOMBSTONE_TYPE;
}

export type DecodeResult = { ok: true; event: CloudEvent; def: EventDef | undefined } | { ok: false; reason: string };

/**
 * Why an event may not sit on this subject, or undefined when it may: the subject is the
 * one its data names (`keyOf` through `path`, in the subject's own mesh), so a state never
 * lands on another entity's subject — a service state carrying another service's hostname,
 * a trust bundle of another trust domain. A tombstone names its entity by subject alone:
 * the subject must have the shape of its type's path.
 */
export function subjectMismatch(subject: string, ev: CloudEvent, def: EventDef | undefined): string | undefined {
  let parsed: ReturnType<typeof parseSubject>;
  try {
    parsed = parseSubject(subject);
  } catch (err) {
    return (err as Error).message;
  }
  if (!def) return isTombstone(ev) ? `tombstone of unknown type ${(ev.data as TombstoneData).of}` : `unknown event type ${ev.type}`;
  if (parsed.domain !== def.domain) return `${def.type} belongs in domain ${def.domain}, not ${parsed.domain}`;
  const shape = `mesh.${parsed.mesh}.${def.domain}.${def.path.join(".")}`;
  if (isTombstone(ev)) {
    const ok = parsed.tokens.length === def.path.length && def.path.every((t, i) => t.startsWith(":") || t === parsed.tokens[i]);
    return ok ? undefined : `tombstone of ${def.type} on ${subject}, which is not of the shape ${shape}`;
  }
  let expected: string;
  try {
    expected = eventSubject(def, parsed.mesh, def.keyOf(ev.data) as Record<string, string>);
  } catch (err) {
    return `${def.type}: ${(err as Error).message}`;
  }
  return expected === subject ? undefined : `subject ${subject} does not match its data, which names ${expected}`;
}

/**
 * Parse bytes into a validated event; never throws, says why on failure. Given the subject
 * it arrived on, the event must also be the one that subject names (`subjectMismatch`).
 */
export function decodeEvent(bytes: Uint8Array, subject?: string): DecodeResult {
  const r = decodeBytes(bytes);
  if (!r.ok || subject === undefined) return r;
  const mismatch = subjectMismatch(subject, r.event, r.def);
  return mismatch ? { ok: false, reason: `subject mismatch: ${mismatch}` } : r;
}

function decodeBytes(bytes: Uint8Array): DecodeResult {
  let raw: unknown;
  try {
    raw = decodeJson(bytes);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const env = cloudEventSchema.safeParse(raw);
  if (!env.success) return { ok: false, reason: `not a CloudEvents 1.0 envelope: ${z.prettifyError(env.error)}` };
  const ev = env.data as CloudEvent;
  if (ev.type === TOMBSTONE_TYPE) {
    const t = tombstoneDataSchema.safeParse(ev.data);
    if (!t.success) return { ok: false, reason: `invalid tombstone: ${z.prettifyError(t.error)}` };
    return { ok: true, event: { ...ev, data: t.data }, def: registry.get(t.data.of) };
  }
  const def = registry.get(ev.type);
  if (!def) return { ok: false, reason: `unknown event type ${ev.type}` };
  const data = def.schema.safeParse(ev.data);
  if (!data.success) return { ok: false, reason: `data does not match ${ev.type}: ${z.prettifyError(data.error)}` };
  return { ok: true, event: { ...ev, data: data.data }, def };
}

/** Deterministic JSON (sorted keys) so equal states hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}
