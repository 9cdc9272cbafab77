import type { ConfigKindKey } from "@isthmus/events";
import { type Message, message } from "./messages.js";

/**
 * What a consumer of configuration (config-push's translation, pvl-manager) honours of a
 * kind: the field paths it reads (`spec.http[].route[].destination.host`; `[]` for list
 * items, `*` for any map key, a trailing `**` for a whole subtree) and, for enum-like
 * fields, the values it honours. Anything else present in an object is reported.
 */
export interface KindSupport {
  fields: readonly string[];
  values?: Readonly<Record<string, { honoured: readonly string[]; otherwise: string }>>;
  /** Said once per object of the kind (e.g. "stored; takes effect when ..."). */
  note?: string;
  /**
   * Fields the consumer reads only to set an object aside (e.g. a PeerAuthentication with a
   * selector, not applied yet): present, they are reported with this text.
   */
  guards?: Readonly<Record<string, string>>;
}

export type SupportTable = Partial<Record<ConfigKindKey, KindSupport>>;

type Segments = string[];

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function patternSegments(p: string): Segments {
  return p.split(".");
}

/** Does a concrete normalized path match a pattern exactly (`*` any key)? */
function matches(pattern: Segments, path: Segments): boolean {
  if (pattern.length !== path.length) return false;
  return pattern.every((s, i) => s === "*" || s === path[i] || (s === "*[]" && (path[i] as string).endsWith("[]")));
}

/** Is the path a proper prefix of (an ancestor on the way to) some pattern? */
function leadsTo(pattern: Segments, path: Segments): boolean {
  if (pattern.length <= path.length) return false;
  return matches(pattern.slice(0, path.length), path);
}

function subtree(pattern: Segments, path: Segments): boolean {
  if (pattern[pattern.length - 1] !== "**") return false;
  const base = pattern.slice(0, -1);
  return path.length >= base.length && matches(base, path.slice(0, base.length));
}

/** Human path: spec.http[0].match[1].headers["x-user"].exact */
function display(concrete: Array<string | number>): string {
  let s = "";
  for (const c of concrete) {
    if (typeof c === "number") s += `[${c}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(c)) s += s ? `.${c}` : c;
    else s += `[${JSON.stringify(c)}]`;
  }
  return s;
}

export class SupportMatcher {
  private readonly patterns: Segments[];
  constructor(readonly support: KindSupport) {
    this.patterns = support.fields.map(patternSegments);
  }

  honoured(path: Segments): boolean {
    return this.patterns.some((p) => matches(p, path) || subtree(p, path));
  }

  /** An object or list on the way to honoured fields: look inside. */
  inside(path: Segments): boolean {
    return this.patterns.some((p) => leadsTo(p, path) || subtree(p, path));
  }

  /** Patterns as written, normalized, for coverage checks. */
  get normalized(): string[] {
    return this.patterns.map((p) => p.join("."));
  }
}

/**
 * Every field of an object that the consumer does not honour, as the highest such field
 * (an unsupported `corsPolicy` is one message, not one per leaf), and every enum value it
 * does not honour.
 */
export function unsupportedFields(obj: Record<string, unknown>, support: KindSupport, resource: string, origin?: string): Message[] {
  const m = new SupportMatcher(support);
  const out: Message[] = [];
  const seen = new Set<string>();
  const values = support.values ?? {};
  const guards = support.guards ?? {};
  const guardMessage = (concrete: Array<string | number>, text: string) => {
    out.push(message("UnsupportedField", resource, `${display(concrete)}: ${text}`, display(concrete), origin));
  };
  const walk = (v: unknown, norm: Segments, concrete: Array<string | number>) => {
    const key = norm.join(".");
    const guard = guards[key];
    if (guard) return guardMessage(concrete, guard);
    if (Array.isArray(v)) {
      const last = norm[norm.length - 1] as string;
      const itemNorm = [...norm.slice(0, -1), `${last}[]`];
      if (!m.inside(itemNorm) && !m.honoured(itemNorm)) return report(concrete, key);
      v.forEach((item, i) => {
        walk(item, itemNorm, [...concrete, i]);
      });
      return;
    }
    if (isPlainObject(v)) {
      if (norm.length && !m.inside(norm) && !m.honoured(norm)) return report(concrete, key);
      // An object declared as a whole is honoured by its presence; its fields still need declaring (maps use `*`).
      for (const [k, child] of Object.entries(v)) walk(child, [...norm, k], [...concrete, k]);
      return;
    }
    if (!m.honoured(norm)) return report(concrete, key);
    const rule = values[key] ?? Object.entries(values).find(([p]) => matches(patternSegments(p), norm))?.[1];
    if (rule && typeof v === "string" && !rule.honoured.includes(v)) {
      out.push(
        message("UnsupportedValue", resource, `${display(concrete)}: ${JSON.stringify(v)} is not supported; ${rule.otherwise}`, display(concrete), origin),
      );
    }
  };
  const report = (concrete: Array<string | number>, normKey: string) => {
    if (seen.has(normKey)) return;
    seen.add(normKey);
    out.push(message("UnsupportedField", resource, `${display(concrete)} is not supported by Isthmus and has no effect`, display(concrete), origin));
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind" || k === "metadata" || k === "status") continue;
    walk(v, [k], [k]);
  }
  return out;
}

/**
 * Wraps an object so every property read is recorded as a normalized path (list items as
 * `[]`). The honoured-fields test runs the translation over wrapped objects and compares
 * what it read with what the support table declares, so the two cannot drift apart.
 */
export function recordReads<T extends object>(value: T, reads: Set<string>, base: Segments = []): T {
  return new Proxy(value, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === "symbol" || typeof v === "function") return v;
      let path: Segments;
      if (Array.isArray(target)) {
        if (!/^\d+$/.test(prop)) return v;
        path = base; // the list itself was recorded as `name[]`
      } else {
        path = [...base, Array.isArray(v) ? `${prop}[]` : prop];
        reads.add(path.join("."));
      }
      return v !== null && typeof v === "object" ? recordReads(v as object, reads, path) : v;
    },
  });
}

/**
 * Compares recorded reads with the declared fields: a read that is neither declared nor on
 * the way to a declared field is undeclared; a declared field never read is stale.
 */
export function supportDrift(reads: Iterable<string>, support: KindSupport): { undeclared: string[]; unread: string[] } {
  const m = new SupportMatcher(support);
  const readList = [...reads];
  const guards = new Set(Object.keys(support.guards ?? {}));
  const undeclared = readList.filter((r) => {
    const segs = patternSegments(r);
    // An absent list reads as `name`, a present one as `name[]`.
    const asList = [...segs.slice(0, -1), `${segs[segs.length - 1]}[]`];
    return !m.honoured(segs) && !m.inside(segs) && !m.honoured(asList) && !m.inside(asList) && !guards.has(r);
  });
  const unread = support.fields.filter((f) => {
    const p = patternSegments(f);
    return !readList.some((r) => matches(p, patternSegments(r)) || subtree(p, patternSegments(r)));
  });
  return { undeclared: [...new Set(undeclared)].sort(), unread };
}
