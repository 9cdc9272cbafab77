import { parseDurationMs, re2Problem, resolveHost } from "@isthmus/config";
import type { ClusterPolicy, Route, RouteMatch } from "@isthmus/xds";
import { outboundCluster } from "@isthmus/xds";
import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";

/** A configuration object as the translation receives it (admitted, from the CONFIG stream). */
export interface ConfigResource {
  kind: string;
  namespace: string;
  name: string;
  spec: Record<string, unknown>;
}

/** Istio's own published types for the specs the translation reads (networking.istio.io/v1). */
export type VirtualServiceSpec = NonNullable<IVirtualService["spec"]>;
export type DestinationRuleSpec = NonNullable<IDestinationRule["spec"]>;
type HttpRoute = NonNullable<VirtualServiceSpec["http"]>[number];
type HttpMatch = NonNullable<HttpRoute["match"]>[number];
type TrafficPolicy = NonNullable<DestinationRuleSpec["trafficPolicy"]>;

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

/** A regex as RE2 clients take it, or a ConfigError saying why not (the rule is libs/config's). */
export function checkRegex(regex: string, where: string): string {
  const problem = re2Problem(regex);
  if (problem) throw new ConfigError(`${where}: ${problem}`);
  return regex;
}

/** A duration in milliseconds ("5s", "250ms", "1h30m"), or a ConfigError. */
export function durationMs(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const ms = parseDurationMs(d);
  if (ms === undefined) throw new ConfigError(`not a duration: ${d}`);
  return ms;
}

/** Istio's host resolution: only a dotless name is a service of the object's namespace. */
export const fqdn = (host: string, namespace: string) => resolveHost(host, namespace);

export interface Subset {
  name: string;
  labels: Record<string, string>;
  policy: ClusterPolicy;
}

function clusterPolicy(tp: TrafficPolicy | undefined, base: ClusterPolicy = {}): ClusterPolicy {
  const out: ClusterPolicy = { ...base };
  const simple = tp?.loadBalancer?.simple;
  if (tp?.loadBalancer?.consistentHash) out.lbPolicy = "RING_HASH";
  else if (simple === "LEAST_REQUEST" || simple === "LEAST_CONN") out.lbPolicy = "LEAST_REQUEST";
  else if (simple) out.lbPolicy = "ROUND_ROBIN";
  const od = tp?.outlierDetection;
  if (od) {
    out.outlierDetection = {
      consecutive5xx: od.consecutive5xxErrors ?? od.consecutiveGatewayErrors ?? 5,
      intervalMs: durationMs(od.interval) ?? 10_000,
      baseEjectionMs: durationMs(od.baseEjectionTime) ?? 30_000,
      maxEjectionPercent: od.maxEjectionPercent ?? 10,
    };
  }
  if (tp?.connectionPool?.http?.http2MaxRequests) out.maxRequests = tp.connectionPool.http.http2MaxRequests;
  return out;
}

/** A DestinationRule's default policy and subsets for one host. */
export function destinationPolicy(dr: ConfigResource | undefined): { policy: ClusterPolicy; subsets: Subset[] } {
  if (!dr) return { policy: {}, subsets: [] };
  const spec = dr.spec as DestinationRuleSpec;
  const policy = clusterPolicy(spec.trafficPolicy);
  return { policy, subsets: (spec.subsets ?? []).map((s) => ({ name: s.name, labels: s.labels ?? {}, policy: clusterPolicy(s.trafficPolicy, policy) })) };
}

function toMatch(m: HttpMatch | undefined): RouteMatch {
  const out: RouteMatch = {};
  if (m?.uri?.exact !== undefined) out.path = m.uri.exact;
  else if (m?.uri?.regex !== undefined) out.regex = checkRegex(m.uri.regex, "match.uri.regex");
  else out.prefix = m?.uri?.prefix ?? "";
  const headers = Object.entries(m?.headers ?? {});
  if (headers.length)
    out.headers = headers.map(([name, v]) => {
      if (v.exact !== undefined) return { name, exact: v.exact };
      if (v.prefix !== undefined) return { name, prefix: v.prefix };
      if (v.regex !== undefined) return { name, regex: checkRegex(v.regex, `match.headers.${name}.regex`) };
      return { name, prefix: "" };
    });
  return out;
}

/**
 * A VirtualService's http routes for one host:port as xDS routes, first match first.
 * Without a VirtualService: everything to the host's default cluster.
 */
export function routesFor(host: string, port: number, vs: ConfigResource | undefined): Route[] {
  if (!vs) return [{ match: { prefix: "" }, action: { clusters: [{ name: outboundCluster(port, host), weight: 100 }] } }];
  const routes: Route[] = [];
  for (const http of (vs.spec as VirtualServiceSpec).http ?? []) {
    const dests = (http.route ?? []).map((r, i) => {
      if (!r.destination?.host) throw new ConfigError(`http route ${i}: destination.host is required`);
      return {
        name: outboundCluster(r.destination.port?.number ?? port, fqdn(r.destination.host, vs.namespace), r.destination.subset ?? ""),
        weight: r.weight ?? (http.route?.length === 1 ? 100 : 0),
      };
    });
    if (!dests.length) continue;
    const action: Route["action"] = { clusters: dests };
    const timeout = durationMs(http.timeout);
    if (timeout !== undefined) action.timeoutMs = timeout;
    if (http.retries?.attempts) {
      const perTry = durationMs(http.retries.perTryTimeout);
      action.retry = {
        retryOn: http.retries.retryOn ?? "unavailable,cancelled,resource-exhausted",
        attempts: http.retries.attempts,
        ...(perTry ? { perTryTimeoutMs: perTry } : {}),
      };
    }
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
