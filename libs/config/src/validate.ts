import { type Message, message } from "./messages.js";
import { parseDurationMs, re2Problem } from "./values.js";

/** Values at a pattern path (`spec.http[].timeout`, `*` for any map key), with their concrete paths. */
export function valuesAt(obj: unknown, pattern: string): Array<{ path: string; value: unknown }> {
  const out: Array<{ path: string; value: unknown }> = [];
  const step = (v: unknown, segs: string[], path: string) => {
    if (!segs.length) {
      if (v !== undefined) out.push({ path, value: v });
      return;
    }
    const [seg, ...rest] = segs as [string, ...string[]];
    if (v === null || typeof v !== "object") return;
    const list = seg.endsWith("[]");
    const key = list ? seg.slice(0, -2) : seg;
    const children: Array<[string, unknown]> = key === "*" ? Object.entries(v) : [[key, (v as Record<string, unknown>)[key]]];
    for (const [k, child] of children) {
      const p = path ? `${path}.${k}` : k;
      if (list) {
        if (Array.isArray(child)) for (const [i, item] of child.entries()) step(item, rest, `${p}[${i}]`);
      } else step(child, rest, p);
    }
  };
  step(obj, pattern.split("."), "");
  return out;
}

const DURATIONS: Record<string, string[]> = {
  VirtualService: ["spec.http[].timeout", "spec.http[].retries.perTryTimeout", "spec.http[].fault.delay.fixedDelay"],
  DestinationRule: [
    "spec.trafficPolicy.outlierDetection.interval",
    "spec.trafficPolicy.outlierDetection.baseEjectionTime",
    "spec.trafficPolicy.connectionPool.tcp.connectTimeout",
    "spec.trafficPolicy.connectionPool.http.idleTimeout",
    "spec.subsets[].trafficPolicy.outlierDetection.interval",
    "spec.subsets[].trafficPolicy.outlierDetection.baseEjectionTime",
    "spec.subsets[].trafficPolicy.connectionPool.tcp.connectTimeout",
    "spec.subsets[].trafficPolicy.connectionPool.http.idleTimeout",
  ],
};

const REGEXES: Record<string, string[]> = {
  VirtualService: [
    "spec.http[].match[].uri.regex",
    "spec.http[].match[].authority.regex",
    "spec.http[].match[].method.regex",
    "spec.http[].match[].scheme.regex",
    "spec.http[].match[].headers.*.regex",
    "spec.http[].match[].queryParams.*.regex",
    "spec.http[].match[].withoutHeaders.*.regex",
  ],
};

/**
 * What Istio's validating webhook refuses beyond the schema, for one object: durations
 * that are not durations, regexes RE2 cannot compile, duplicate subset names; and what it
 * warns about: route weights that do not add up to 100.
 */
export function validateObject(kind: string, obj: Record<string, unknown>, resource: string, origin?: string): Message[] {
  const out: Message[] = [];
  for (const pattern of DURATIONS[kind] ?? []) {
    for (const { path, value } of valuesAt(obj, pattern)) {
      const ms = typeof value === "string" ? parseDurationMs(value) : undefined;
      if (ms === undefined)
        out.push(message("InvalidDuration", resource, `${path}: ${JSON.stringify(value)} is not a duration (e.g. "5s", "250ms")`, path, origin));
      else if (ms < 1 && !/timeout/i.test(path)) out.push(message("InvalidDuration", resource, `${path}: must be at least 1ms`, path, origin));
    }
  }
  for (const pattern of REGEXES[kind] ?? []) {
    for (const { path, value } of valuesAt(obj, pattern)) {
      const problem = typeof value === "string" ? re2Problem(value) : "must be a string";
      if (problem) out.push(message("InvalidRegex", resource, `${path}: ${problem}`, path, origin));
    }
  }
  if (kind === "VirtualService") {
    for (const { path, value } of valuesAt(obj, "spec.http[].route")) {
      if (!Array.isArray(value) || value.length < 2) continue;
      const weights = value.map((r) => (r && typeof r === "object" ? (r as { weight?: unknown }).weight : undefined));
      if (weights.every((w) => w === undefined)) continue;
      const sum = weights.reduce<number>((a, w) => a + (typeof w === "number" ? w : 0), 0);
      if (sum !== 100)
        out.push(
          message(
            "WeightsDoNotAddUp",
            resource,
            `${path}: destination weights add up to ${sum}, not 100; each gets weight/${sum} of the traffic`,
            path,
            origin,
          ),
        );
    }
  }
  if (kind === "DestinationRule") {
    const names = valuesAt(obj, "spec.subsets[].name");
    const seen = new Set<unknown>();
    for (const { path, value } of names) {
      if (seen.has(value)) out.push(message("InvalidValue", resource, `${path}: duplicate subset name ${JSON.stringify(value)}`, path, origin));
      seen.add(value);
    }
  }
  return out;
}
