import type { Route, RouteMatch } from "@isthmus/xds";
import { outboundCluster } from "@isthmus/xds";
import { type HttpRouteFeatures, httpFeatures, retryOf } from "./http-features.js";

/** The parts of Istio's networking.istio.io/v1 resources config-push reads. */
export interface ConfigResource {
  kind: string;
  namespace: string;
  name: string;
  spec: Record<string, unknown>;
}

type StringMatch = { exact?: string; prefix?: string; regex?: string };
interface HttpRoute extends HttpRouteFeatures {
  name?: string;
  match?: Array<{ uri?: StringMatch; headers?: Record<string, StringMatch> }>;
  route?: Array<{ destination: { host: string; subset?: string; port?: { number?: number } }; weight?: number }>;
  fault?: {
    abort?: { percentage?: { value?: number }; httpStatus?: number; grpcStatus?: string };
    delay?: { percentage?: { value?: number }; fixedDelay?: string };
  };
  retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string };
  timeout?: string;
}
export const GRPC_CODES: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/** Mesh configuration that cannot be turned into xDS; the resource is skipped with this reason. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Regexes go to clients as RE2. Refuse what RE2 cannot compile (look-around,
 * back-references) and what is not a regex at all: grpc-js-xds accepts an invalid one and
 * then throws while matching.
 */
export function checkRegex(regex: string, where: string): string {
  if (/\(\?[=!]|\(\?<[=!]|\\[1-9]/.test(regex))
    throw new ConfigError(`${where}: ${JSON.stringify(regex)} uses look-around or back-references, which RE2 does not support`);
  try {
    new RegExp(regex, "u");
  } catch (err) {
    throw new ConfigError(`${where}: ${JSON.stringify(regex)} is not a valid regular expression (${(err as Error).message})`);
  }
  return regex;
}

/** "5s", "250ms", "1.5s", "2m", "1h" -> milliseconds. */
export function durationMs(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d.trim());
  if (!m) throw new ConfigError(`not a duration: ${d}`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms"]);
}

/** Istio host resolution: `reviews` in namespace ns -> reviews.ns.svc.cluster.local; `reviews.ns` likewise. */
export function fqdn(host: string, namespace: string): string {
  if (host.endsWith(".svc.cluster.local") || host.split(".").length > 2) return host;
  return host.includes(".") ? `${host}.svc.cluster.local` : `${host}.${namespace}.svc.cluster.local`;
}

function toMatch(m: NonNullable<HttpRoute["match"]>[number] | undefined): RouteMatch {
  const out: RouteMatch = {};
  if (m?.uri?.exact !== undefined) out.path = m.uri.exact;
  else if (m?.uri?.regex !== undefined) out.regex = checkRegex(m.uri.regex, "match.uri.regex");
  else out.prefix = m?.uri?.prefix ?? "";
  const headers = Object.entries(m?.headers ?? {});
  if (headers.length)
    out.headers = headers.map(([name, v]) => ({ name, ...v, ...(v.regex !== undefined ? { regex: checkRegex(v.regex, `match.headers.${name}.regex`) } : {}) }));
  return out;
}

/**
 * A VirtualService's http routes for one host:port as xDS routes, first match first.
 * Without a VirtualService: everything to the host's default cluster.
 */
export function routesFor(host: string, port: number, vs: ConfigResource | undefined): Route[] {
  // No http routes (none, or a VirtualService of tcp/tls routes only): the host's default cluster.
  if (!vs || !(vs.spec.http as unknown[] | undefined)?.length)
    return [{ match: { prefix: "" }, action: { clusters: [{ name: outboundCluster(port, host), weight: 100 }] } }];
  const routes: Route[] = [];
  for (const http of (vs.spec.http as HttpRoute[] | undefined) ?? []) {
    const dests = (http.route ?? []).map((r) => ({
      name: outboundCluster(r.destination.port?.number ?? port, fqdn(r.destination.host, vs.namespace), r.destination.subset ?? ""),
      weight: r.weight ?? (http.route?.length === 1 ? 100 : 0),
    }));
    if (!dests.length && !http.redirect) continue;
    const action: Route["action"] = {
      clusters: dests,
      ...httpFeatures(http, {
        port,
        namespace: vs.namespace,
        cluster: (d) => outboundCluster(d.port?.number ?? port, fqdn(d.host, vs.namespace), d.subset ?? ""),
      }),
    };
    const timeout = durationMs(http.timeout);
    if (timeout !== undefined) action.timeoutMs = timeout;
    if (http.retries) action.retry = retryOf(http.retries);
    const f = http.fault;
    if (f?.abort || f?.delay) {
      action.fault = {};
      if (f.abort) {
        const code = f.abort.grpcStatus !== undefined ? GRPC_CODES[f.abort.grpcStatus.toUpperCase()] : undefined;
        action.fault.abort = {
          percent: f.abort.percentage?.value ?? 100,
          ...(code !== undefined ? { grpcStatus: code } : { httpStatus: f.abort.httpStatus ?? 503 }),
        };
      }
      if (f.delay) action.fault.delay = { percent: f.delay.percentage?.value ?? 100, fixedDelayMs: durationMs(f.delay.fixedDelay) ?? 0 };
    }
    for (const m of http.match?.length ? http.match : [undefined]) routes.push({ ...(http.name ? { name: http.name } : {}), match: toMatch(m), action });
  }
  return routes;
}
