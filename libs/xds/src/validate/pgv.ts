import { isIP } from "node:net";
import protobuf from "protobufjs";
import type { Violation } from "./violation.js";

/*
 * protoc-gen-validate, interpreted: the `(validate.rules)` options Envoy's protos declare,
 * read from protobufjs's `parsedOptions`, checked against a decoded message. Envoy runs the
 * generated C++ of these same rules on every resource it receives and NACKs on a failure
 * (https://github.com/bufbuild/protoc-gen-validate, Envoy's "MessageUtil::validate").
 * Proto3 semantics as PGV has them: a scalar outside a oneof is checked even when unset
 * (its default is its value); a message field or oneof member only when set.
 */

type Rules = Record<string, unknown>;
type Msg = Record<string, unknown>;

export interface Ctx {
  root: protobuf.Root;
  out: Violation[];
  resource: string;
  /** Called on every message reached (Any values unpacked), with its type's full name: where the Envoy code rules hook in. */
  visit?: (type: string, path: string, m: Msg) => void;
}

interface FieldPlan {
  field: protobuf.Field;
  rules?: Rules;
  /** Set only when present on the wire (oneof member, proto3 optional). */
  presence: boolean;
  deprecated: boolean;
  /** A message field (its absence is only checked when required). */
  message: boolean;
  required: boolean;
}

interface Plan {
  /** protobufjs computes fullName on every read: kept here. */
  fullName: string;
  /** Only the fields that can yield a violation: with rules, deprecated, or holding messages. */
  fields: FieldPlan[];
  requiredOneofs: Array<{ name: string; members: string[] }>;
}

const NUMERIC = ["float", "double", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"];
const WRAPPERS: Record<string, string> = {
  ".google.protobuf.DoubleValue": "double",
  ".google.protobuf.FloatValue": "float",
  ".google.protobuf.Int64Value": "int64",
  ".google.protobuf.UInt64Value": "uint64",
  ".google.protobuf.Int32Value": "int32",
  ".google.protobuf.UInt32Value": "uint32",
  ".google.protobuf.BoolValue": "bool",
  ".google.protobuf.StringValue": "string",
  ".google.protobuf.BytesValue": "bytes",
};

/** Every rule key this interpreter checks, per rule kind: a key outside these is refused when the rules are compiled, never skipped. */
const KNOWN: Record<string, Set<string>> = {
  message: new Set(["required", "skip"]),
  string: new Set([
    "const",
    "len",
    "min_len",
    "max_len",
    "len_bytes",
    "min_bytes",
    "max_bytes",
    "pattern",
    "prefix",
    "suffix",
    "contains",
    "not_contains",
    "in",
    "not_in",
    "well_known_regex",
    "strict",
    "ignore_empty",
    "ip",
    "ipv4",
    "ipv6",
    "hostname",
    "address",
    "uuid",
  ]),
  bytes: new Set(["const", "len", "min_len", "max_len", "prefix", "suffix", "contains", "in", "not_in", "ignore_empty"]),
  bool: new Set(["const"]),
  enum: new Set(["const", "defined_only", "in", "not_in"]),
  repeated: new Set(["min_items", "max_items", "unique", "items", "ignore_empty"]),
  map: new Set(["min_pairs", "max_pairs", "no_sparse", "keys", "values", "ignore_empty"]),
  any: new Set(["required", "in", "not_in"]),
  duration: new Set(["required", "const", "lt", "lte", "gt", "gte", "in", "not_in"]),
  ...Object.fromEntries(NUMERIC.map((k) => [k, new Set(["const", "lt", "lte", "gt", "gte", "in", "not_in", "ignore_empty"])])),
};

export class UnsupportedRuleError extends Error {
  override name = "UnsupportedRuleError";
}

function checkKnown(rules: Rules, where: string): void {
  for (const [kind, r] of Object.entries(rules)) {
    const known = KNOWN[kind];
    if (!known) throw new UnsupportedRuleError(`${where}: (validate.rules).${kind} is not checked by this validator`);
    for (const k of Object.keys(r as Rules)) {
      if (!known.has(k)) throw new UnsupportedRuleError(`${where}: (validate.rules).${kind}.${k} is not checked by this validator`);
    }
    const nested = r as Rules;
    if (kind === "repeated" && nested.items) checkKnown(nested.items as Rules, `${where}[]`);
    if (kind === "map" && nested.keys) checkKnown(nested.keys as Rules, `${where}{key}`);
    if (kind === "map" && nested.values) checkKnown(nested.values as Rules, `${where}{value}`);
  }
}

function fieldRules(f: protobuf.Field): Rules | undefined {
  let out: Rules | undefined;
  for (const o of ((f as { parsedOptions?: unknown[] }).parsedOptions ?? []) as unknown[]) {
    const r = (o as Record<string, unknown>)["(validate.rules)"] as Rules | undefined;
    if (r) out = { ...out, ...r };
  }
  return out;
}

const plans = new WeakMap<protobuf.Type, Plan>();

/** The compiled rules of one message type (once per type). Throws UnsupportedRuleError on a rule it cannot check. */
export function planOf(t: protobuf.Type): Plan {
  let p = plans.get(t);
  if (p) return p;
  const fields = t.fieldsArray
    .map((field) => {
      field.resolve();
      const rules = fieldRules(field);
      if (rules) checkKnown(rules, `${t.fullName}.${field.name}`);
      const r = rules as Record<string, Rules | undefined> | undefined;
      return {
        field,
        ...(rules ? { rules } : {}),
        presence: field.partOf !== null && field.partOf !== undefined,
        deprecated: field.options?.deprecated === true,
        message: field.resolvedType instanceof protobuf.Type,
        required: Boolean(r?.message?.required || r?.duration?.required || r?.any?.required),
      };
    })
    .filter((f) => f.rules || f.deprecated || f.field.resolvedType instanceof protobuf.Type);
  const requiredOneofs = t.oneofsArray
    .filter((o) =>
      (((o as { parsedOptions?: unknown[] }).parsedOptions ?? []) as unknown[]).some((x) => (x as Record<string, unknown>)["(validate.required)"] === true),
    )
    .map((o) => ({ name: o.name, members: o.oneof }));
  p = { fullName: t.fullName, fields, requiredOneofs };
  plans.set(t, p);
  return p;
}

const has = (m: Msg, k: string) => Object.hasOwn(m, k) && m[k] !== null && m[k] !== undefined;
const num = (v: unknown): number => (typeof v === "number" ? v : typeof v === "string" ? Number(v) : (v as { toNumber(): number }).toNumber());
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

function report(ctx: Ctx, path: string, rule: string, message: string, severity: "error" | "warning" = "error"): void {
  ctx.out.push({ resource: ctx.resource, path, rule, message, severity });
}

// protoc-gen-validate's well-known header regexes (validate.proto KnownRegex); `strict: false` keeps only the \0 \r \n ban.
const HEADER_NAME = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about control characters
const HEADER_VALUE = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about control characters
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;
const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const patterns = new Map<string, RegExp>();
function pattern(p: string): RegExp {
  let re = patterns.get(p);
  if (!re) {
    re = new RegExp(p, "u");
    patterns.set(p, re);
  }
  return re;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++; // a high surrogate starts a pair counted at its low half
  }
  return n;
}

function checkString(ctx: Ctx, path: string, s: string, r: Rules): void {
  if (r.ignore_empty && s === "") return;
  // Counted only when a rule needs them (most string rules are patterns or header regexes).
  const chars = r.len !== undefined || r.min_len !== undefined || r.max_len !== undefined ? codePoints(s) : 0;
  const bytes = r.len_bytes !== undefined || r.min_bytes !== undefined || r.max_bytes !== undefined ? Buffer.byteLength(s, "utf8") : 0;
  const bad = (rule: string, msg: string) => report(ctx, path, `string.${rule}`, `${msg} (got ${show(s.length > 80 ? `${s.slice(0, 80)}…` : s)})`);
  if (r.const !== undefined && s !== r.const) bad("const", `must equal ${show(r.const)}`);
  if (r.len !== undefined && chars !== num(r.len)) bad("len", `must be ${num(r.len)} characters`);
  if (r.min_len !== undefined && chars < num(r.min_len)) bad("min_len", `must be at least ${num(r.min_len)} characters`);
  if (r.max_len !== undefined && chars > num(r.max_len)) bad("max_len", `must be at most ${num(r.max_len)} characters`);
  if (r.len_bytes !== undefined && bytes !== num(r.len_bytes)) bad("len_bytes", `must be ${num(r.len_bytes)} bytes`);
  if (r.min_bytes !== undefined && bytes < num(r.min_bytes)) bad("min_bytes", `must be at least ${num(r.min_bytes)} bytes`);
  if (r.max_bytes !== undefined && bytes > num(r.max_bytes)) bad("max_bytes", `must be at most ${num(r.max_bytes)} bytes`);
  if (typeof r.pattern === "string" && !pattern(r.pattern).test(s)) bad("pattern", `must match ${r.pattern}`);
  if (typeof r.prefix === "string" && !s.startsWith(r.prefix)) bad("prefix", `must start with ${show(r.prefix)}`);
  if (typeof r.suffix === "string" && !s.endsWith(r.suffix)) bad("suffix", `must end with ${show(r.suffix)}`);
  if (typeof r.contains === "string" && !s.includes(r.contains)) bad("contains", `must contain ${show(r.contains)}`);
  if (typeof r.not_contains === "string" && s.includes(r.not_contains)) bad("not_contains", `must not contain ${show(r.not_contains)}`);
  if (r.in !== undefined && !list(r.in).includes(s)) bad("in", `must be one of ${list(r.in).map(show).join(", ")}`);
  if (r.not_in !== undefined && list(r.not_in).includes(s)) bad("not_in", "is a forbidden value");
  if (r.well_known_regex !== undefined) {
    const strict = r.strict !== false;
    const re = !strict ? HEADER_LOOSE : r.well_known_regex === "HTTP_HEADER_NAME" || r.well_known_regex === 1 ? HEADER_NAME : HEADER_VALUE;
    if (!re.test(s)) bad("well_known_regex", `must be a valid HTTP header ${re === HEADER_NAME ? "name" : "value"}`);
  }
  if (r.ip && !isIP(s)) bad("ip", "must be an IP address");
  if (r.ipv4 && isIP(s) !== 4) bad("ipv4", "must be an IPv4 address");
  if (r.ipv6 && isIP(s) !== 6) bad("ipv6", "must be an IPv6 address");
  if (r.hostname && !HOSTNAME.test(s)) bad("hostname", "must be a host name");
  if (r.address && !isIP(s) && !HOSTNAME.test(s)) bad("address", "must be an IP address or a host name");
  if (r.uuid && !UUID.test(s)) bad("uuid", "must be a UUID");
}

function checkBytes(ctx: Ctx, path: string, b: Uint8Array, r: Rules): void {
  if (r.ignore_empty && b.length === 0) return;
  const buf = Buffer.from(b);
  const bad = (rule: string, msg: string) => report(ctx, path, `bytes.${rule}`, `${msg} (got ${b.length} bytes)`);
  if (r.len !== undefined && b.length !== num(r.len)) bad("len", `must be ${num(r.len)} bytes`);
  if (r.min_len !== undefined && b.length < num(r.min_len)) bad("min_len", `must be at least ${num(r.min_len)} bytes`);
  if (r.max_len !== undefined && b.length > num(r.max_len)) bad("max_len", `must be at most ${num(r.max_len)} bytes`);
  const bytesOf = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64") : Buffer.from(v as Uint8Array));
  if (r.const !== undefined && !buf.equals(bytesOf(r.const))) bad("const", "must equal the constant");
  if (r.prefix !== undefined && !buf.subarray(0, bytesOf(r.prefix).length).equals(bytesOf(r.prefix))) bad("prefix", "must start with the prefix");
  if (r.suffix !== undefined && !buf.subarray(buf.length - bytesOf(r.suffix).length).equals(bytesOf(r.suffix))) bad("suffix", "must end with the suffix");
  if (r.contains !== undefined && !buf.includes(bytesOf(r.contains))) bad("contains", "must contain the given bytes");
  if (r.in !== undefined && !list(r.in).some((x) => buf.equals(bytesOf(x)))) bad("in", "must be one of the allowed values");
  if (r.not_in !== undefined && list(r.not_in).some((x) => buf.equals(bytesOf(x)))) bad("not_in", "is a forbidden value");
}

/** Numbers compared as PGV does; Durations are passed in nanoseconds, their bounds converted likewise. */
function checkRange(ctx: Ctx, path: string, kind: string, v: number, r: Rules, conv: (x: unknown) => number, fmt: (x: number) => string): void {
  if (r.ignore_empty && v === 0) return;
  const bad = (rule: string, msg: string) => report(ctx, path, `${kind}.${rule}`, `${msg} (got ${fmt(v)})`);
  if (r.const !== undefined && v !== conv(r.const)) bad("const", `must equal ${fmt(conv(r.const))}`);
  const lo = r.gt !== undefined ? { v: conv(r.gt), incl: false } : r.gte !== undefined ? { v: conv(r.gte), incl: true } : undefined;
  const hi = r.lt !== undefined ? { v: conv(r.lt), incl: false } : r.lte !== undefined ? { v: conv(r.lte), incl: true } : undefined;
  const above = (b: { v: number; incl: boolean }) => (b.incl ? v >= b.v : v > b.v);
  const below = (b: { v: number; incl: boolean }) => (b.incl ? v <= b.v : v < b.v);
  const sign = (b: { incl: boolean }, s: string) => (b.incl ? `${s}=` : s);
  if (lo && hi && lo.v > hi.v) {
    // PGV: a lower bound above the upper one means "outside the range".
    if (!(above(lo) || below(hi))) bad("range", `must be ${sign(lo, ">")} ${fmt(lo.v)} or ${sign(hi, "<")} ${fmt(hi.v)}`);
  } else {
    if (lo && !above(lo)) bad(r.gt !== undefined ? "gt" : "gte", `must be ${sign(lo, ">")} ${fmt(lo.v)}`);
    if (hi && !below(hi)) bad(r.lt !== undefined ? "lt" : "lte", `must be ${sign(hi, "<")} ${fmt(hi.v)}`);
  }
  if (r.in !== undefined && !list(r.in).some((x) => conv(x) === v))
    bad(
      "in",
      `must be one of ${list(r.in)
        .map((x) => fmt(conv(x)))
        .join(", ")}`,
    );
  if (r.not_in !== undefined && list(r.not_in).some((x) => conv(x) === v)) bad("not_in", "is a forbidden value");
}

const durationNanos = (d: unknown) => {
  const o = (d ?? {}) as { seconds?: unknown; nanos?: unknown };
  return num(o.seconds ?? 0) * 1e9 + num(o.nanos ?? 0);
};
const fmtDuration = (ns: number) => `${ns / 1e9}s`;
const MAX_DURATION_SECONDS = 315_576_000_000;

function checkScalar(ctx: Ctx, path: string, f: protobuf.Field, v: unknown, r: Rules): void {
  if (r.string && typeof v === "string") checkString(ctx, path, v, r.string as Rules);
  else if (r.bytes && v instanceof Uint8Array) checkBytes(ctx, path, v, r.bytes as Rules);
  else if (r.bool && (r.bool as Rules).const !== undefined && v !== (r.bool as Rules).const)
    report(ctx, path, "bool.const", `must be ${(r.bool as Rules).const} (got ${v})`);
  else if (r.enum && f.resolvedType instanceof protobuf.Enum) {
    const e = r.enum as Rules;
    const n = num(v);
    const name = f.resolvedType.valuesById[n];
    const fmt = (x: number) =>
      f.resolvedType && (f.resolvedType as protobuf.Enum).valuesById[x] !== undefined ? `${(f.resolvedType as protobuf.Enum).valuesById[x]}` : String(x);
    if (e.defined_only && name === undefined) report(ctx, path, "enum.defined_only", `${n} is not a value of ${f.resolvedType.name}`);
    checkRange(
      ctx,
      path,
      "enum",
      n,
      {
        ...(e.const !== undefined ? { const: e.const } : {}),
        ...(e.in !== undefined ? { in: e.in } : {}),
        ...(e.not_in !== undefined ? { not_in: e.not_in } : {}),
      },
      num,
      fmt,
    );
  } else {
    const kind = NUMERIC.find((k) => r[k]);
    if (kind && v !== undefined) checkRange(ctx, path, kind, num(v), r[kind] as Rules, num, String);
  }
}

/** One value of a field (a repeated field's item, a map's value) against its rules, then into it if it is a message. */
function checkValue(ctx: Ctx, path: string, f: protobuf.Field, v: unknown, r: Rules | undefined, set: boolean): void {
  const t = f.resolvedType;
  if (!(t instanceof protobuf.Type)) {
    if (r) checkScalar(ctx, path, f, v, r);
    return;
  }
  if (!set) {
    const required = r && ((r.message as Rules)?.required || (r.duration as Rules)?.required || (r.any as Rules)?.required);
    if (required) report(ctx, path, "message.required", "is required");
    return;
  }
  const m = v as Msg;
  const fullName = planOf(t).fullName;
  const wrapped = WRAPPERS[fullName];
  if (wrapped) {
    if (r?.[wrapped]) checkScalar(ctx, `${path}.value`, t.fields.value as protobuf.Field, m.value ?? (t.fields.value as protobuf.Field).typeDefault, r);
    return;
  }
  if (fullName === ".google.protobuf.Duration") {
    checkDuration(ctx, path, m);
    if (r?.duration) checkRange(ctx, path, "duration", durationNanos(m), r.duration as Rules, durationNanos, fmtDuration);
    return;
  }
  if (fullName === ".google.protobuf.Any") {
    const url = String(m.type_url ?? "");
    if (r?.any) {
      const a = r.any as Rules;
      if (a.in !== undefined && !list(a.in).includes(url)) report(ctx, path, "any.in", `type ${url} is not one of ${list(a.in).join(", ")}`);
      if (a.not_in !== undefined && list(a.not_in).includes(url)) report(ctx, path, "any.not_in", `type ${url} is not allowed`);
    }
    checkAny(ctx, path, m);
    return;
  }
  if ((r?.message as Rules)?.skip) return;
  checkMessage(ctx, path, t, m);
}

/**
 * Envoy refuses any Duration outside protobuf's range or negative, wherever it appears
 * (source/common/protobuf/utility.cc, MessageUtil::validateDurationFields: "Invalid
 * duration: Expected positive duration" / "Duration out-of-range according to Protobuf").
 */
function checkDuration(ctx: Ctx, path: string, m: Msg): void {
  const s = num(m.seconds ?? 0);
  const n = num(m.nanos ?? 0);
  if (s < 0 || n < 0) report(ctx, path, "envoy.duration", `Envoy refuses a negative duration (got ${s}s ${n}ns)`);
  else if (s > MAX_DURATION_SECONDS || n > 999_999_999) report(ctx, path, "envoy.duration", `out of protobuf's Duration range (got ${s}s ${n}ns)`);
}

const types = new WeakMap<protobuf.Root, Map<string, protobuf.Type | undefined>>();
/** A message type by full name (lookups cached: every Any is looked up by its URL). */
export function typeByName(root: protobuf.Root, name: string): protobuf.Type | undefined {
  let byName = types.get(root);
  if (!byName) {
    byName = new Map();
    types.set(root, byName);
  }
  if (byName.has(name)) return byName.get(name);
  let t: protobuf.Type | undefined;
  try {
    t = name ? root.lookupType(name) : undefined;
  } catch {
    t = undefined;
  }
  byName.set(name, t);
  return t;
}

/** An Any, unpacked by its type URL and validated as that type. */
export function checkAny(ctx: Ctx, path: string, m: Msg): void {
  const url = String(m.type_url ?? "");
  const name = url.slice(url.lastIndexOf("/") + 1);
  const t = typeByName(ctx.root, name);
  if (!t) {
    report(ctx, path, "any.type", `type ${url || "(none)"} is not one the validator knows (Envoy would refuse an unknown type too)`);
    return;
  }
  let inner: Msg;
  try {
    inner = t.decode((m.value as Uint8Array | undefined) ?? new Uint8Array()) as unknown as Msg;
  } catch (err) {
    report(ctx, path, "any.decode", `value does not decode as ${name}: ${(err as Error).message}`);
    return;
  }
  checkMessage(ctx, `${path}<${t.name}>`, t, inner);
}

/** A message against its type's rules, and every set message inside it. */
export function checkMessage(ctx: Ctx, path: string, t: protobuf.Type, m: Msg): void {
  const p = planOf(t);
  ctx.visit?.(p.fullName, path, m);
  const at = (name: string) => (path ? `${path}.${name}` : name);
  for (const o of p.requiredOneofs) {
    if (!o.members.some((k) => has(m, k))) report(ctx, at(o.name), "oneof.required", `one of ${o.members.join(", ")} is required`);
  }
  for (const fp of p.fields) {
    const f = fp.field;
    const r = fp.rules;
    const v = m[f.name];
    // Most message fields are unset: nothing to check, so no path is built for them.
    if (fp.message && !f.repeated && !f.map && !fp.required && (v === null || v === undefined)) continue;
    if (f.repeated && !r && !(v as unknown[] | undefined)?.length) continue;
    const where = at(f.name);
    if (f.repeated) {
      const items = (v as unknown[] | undefined) ?? [];
      if (fp.deprecated && items.length) report(ctx, where, "deprecated", "is deprecated in Envoy's API (accepted, with a warning)", "warning");
      const rr = r?.repeated as Rules | undefined;
      if (rr && !(rr.ignore_empty && items.length === 0)) {
        if (rr.min_items !== undefined && items.length < num(rr.min_items))
          report(ctx, where, "repeated.min_items", `needs at least ${num(rr.min_items)} item(s) (got ${items.length})`);
        if (rr.max_items !== undefined && items.length > num(rr.max_items))
          report(ctx, where, "repeated.max_items", `takes at most ${num(rr.max_items)} item(s) (got ${items.length})`);
        if (rr.unique) {
          const seen = new Set(items.map((x) => (typeof x === "object" ? JSON.stringify(x) : x)));
          if (seen.size !== items.length) report(ctx, where, "repeated.unique", "items must be unique");
        }
      }
      const ir = rr?.items as Rules | undefined;
      items.forEach((x, i) => {
        checkValue(ctx, `${where}[${i}]`, f, x, ir, x !== null && x !== undefined);
      });
      continue;
    }
    if (f.map) {
      const entries = Object.entries((v as Record<string, unknown> | undefined) ?? {});
      const mr = r?.map as Rules | undefined;
      if (mr && !(mr.ignore_empty && entries.length === 0)) {
        if (mr.min_pairs !== undefined && entries.length < num(mr.min_pairs))
          report(ctx, where, "map.min_pairs", `needs at least ${num(mr.min_pairs)} entries (got ${entries.length})`);
        if (mr.max_pairs !== undefined && entries.length > num(mr.max_pairs))
          report(ctx, where, "map.max_pairs", `takes at most ${num(mr.max_pairs)} entries (got ${entries.length})`);
      }
      const kr = mr?.keys as Rules | undefined;
      for (const [k, x] of entries) {
        if (kr?.string) checkString(ctx, `${where}{${k}}`, k, kr.string as Rules);
        if (mr?.no_sparse && (x === null || x === undefined)) report(ctx, `${where}[${k}]`, "map.no_sparse", "has no value");
        checkValue(ctx, `${where}[${JSON.stringify(k)}]`, f, x, mr?.values as Rules | undefined, x !== null && x !== undefined);
      }
      continue;
    }
    const set = fp.message || fp.presence ? has(m, f.name) : true;
    if (fp.deprecated && has(m, f.name)) report(ctx, where, "deprecated", "is deprecated in Envoy's API (accepted, with a warning)", "warning");
    if (fp.presence && !set) continue;
    checkValue(ctx, where, f, v ?? f.typeDefault, r, set);
  }
}
