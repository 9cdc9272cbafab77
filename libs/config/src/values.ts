/**
 * Value rules shared by admission and the translation: one definition each.
 */

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/**
 * A duration as Istio's API takes it (Go / protobuf style: "5s", "250ms", "1.5s", "1h30m")
 * in milliseconds; undefined when it is not one.
 */
export function parseDurationMs(d: string): number | undefined {
  const s = d.trim();
  if (!/^(\d+(\.\d+)?(h|ms|m|s|us|µs|ns))+$/.test(s)) return undefined;
  let total = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(part[1]) * (UNIT_MS[part[2] as string] as number);
  return Math.round(total * 1000) / 1000;
}

/**
 * Why a regex would not reach clients as RE2, or undefined when it would: look-around and
 * back-references are not RE2, and what JavaScript cannot compile is no regex at all
 * (grpc-js-xds accepts an invalid one, then throws while matching).
 */
export function re2Problem(regex: string): string | undefined {
  if (/\(\?[=!]|\(\?<[=!]|\\[1-9]/.test(regex)) return `${JSON.stringify(regex)} uses look-around or back-references, which RE2 does not support`;
  try {
    new RegExp(regex, "u");
  } catch (err) {
    return `${JSON.stringify(regex)} is not a valid regular expression (${(err as Error).message})`;
  }
  return undefined;
}

/**
 * Istio's short-name rule: a name without a dot is a service of the object's namespace
 * (`reviews` in `default` -> reviews.default.svc.cluster.local); anything with a dot, and
 * wildcards, is taken as written.
 */
export function resolveHost(host: string, namespace: string, domain = "cluster.local"): string {
  if (host.includes(".") || host.includes("*")) return host;
  return `${host}.${namespace}.svc.${domain}`;
}

/** Does a (possibly wildcard) Istio host match a concrete hostname? `*.example.com`, `*`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*")) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || !name) return "metadata.name is required";
  if (name.length > 253 || !DNS_1123_SUBDOMAIN.test(name)) return `metadata.name ${JSON.stringify(name)} is not a DNS-1123 subdomain`;
  return undefined;
}

export function namespaceProblem(ns: unknown): string | undefined {
  if (typeof ns !== "string" || ns.length > 63 || !DNS_1123_LABEL.test(ns)) return `metadata.namespace ${JSON.stringify(ns)} is not a DNS-1123 label`;
  return undefined;
}
