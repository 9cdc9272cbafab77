import { type AnyMessage, toAny } from "../protos.js";

export interface RouteMatch {
  prefix?: string;
  path?: string;
  regex?: string;
  headers?: Array<{ name: string; exact?: string; prefix?: string; regex?: string; invert?: boolean }>;
}

export interface RouteAction {
  /** A single cluster, or weighted clusters. */
  clusters: Array<{ name: string; weight: number }>;
  timeoutMs?: number;
  retry?: { retryOn: string; attempts: number; perTryTimeoutMs?: number };
  fault?: {
    abort?: { percent: number; grpcStatus?: number; httpStatus?: number };
    delay?: { percent: number; fixedDelayMs: number };
  };
}

export interface Route {
  name?: string;
  match: RouteMatch;
  action: RouteAction;
}

const duration = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
const fraction = (percent: number) => ({ numerator: Math.round(percent * 10_000), denominator: "MILLION" });

function envoyMatch(m: RouteMatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.path !== undefined) out.path = m.path;
  else if (m.regex !== undefined) out.safe_regex = { regex: m.regex };
  else out.prefix = m.prefix ?? "";
  if (m.headers?.length) {
    out.headers = m.headers.map((h) => ({
      name: h.name,
      invert_match: h.invert ?? false,
      string_match: h.exact !== undefined ? { exact: h.exact } : h.prefix !== undefined ? { prefix: h.prefix } : { safe_regex: { regex: h.regex ?? ".*" } },
    }));
  }
  return out;
}

function envoyAction(a: RouteAction): { route: Record<string, unknown>; typed_per_filter_config?: Record<string, unknown> } {
  const route: Record<string, unknown> =
    a.clusters.length === 1
      ? { cluster: a.clusters[0]?.name }
      : { weighted_clusters: { clusters: a.clusters.map((c) => ({ name: c.name, weight: { value: c.weight } })) } };
  if (a.timeoutMs !== undefined) route.max_stream_duration = { max_stream_duration: duration(a.timeoutMs) };
  if (a.retry) {
    route.retry_policy = {
      retry_on: a.retry.retryOn,
      num_retries: { value: a.retry.attempts },
      ...(a.retry.perTryTimeoutMs ? { per_try_timeout: duration(a.retry.perTryTimeoutMs) } : {}),
    };
  }
  if (!a.fault) return { route };
  const fault: Record<string, unknown> = {};
  if (a.fault.abort) {
    fault.abort = {
      percentage: fraction(a.fault.abort.percent),
      ...(a.fault.abort.grpcStatus !== undefined ? { grpc_status: a.fault.abort.grpcStatus } : { http_status: a.fault.abort.httpStatus ?? 503 }),
    };
  }
  if (a.fault.delay) fault.delay = { percentage: fraction(a.fault.delay.percent), fixed_delay: duration(a.fault.delay.fixedDelayMs) };
  return { route, typed_per_filter_config: { "envoy.filters.http.fault": toAny("envoy.extensions.filters.http.fault.v3.HTTPFault", fault) } };
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Route[];
}

const envoyVirtualHost = (v: VirtualHost) => ({
  name: v.name,
  domains: v.domains,
  routes: v.routes.map((r) => ({ ...(r.name ? { name: r.name } : {}), match: envoyMatch(r.match), ...envoyAction(r.action) })),
});

/** A route configuration with one virtual host: the routes in order, first match wins. */
export function routeConfiguration(name: string, domains: string[], routes: Route[]): AnyMessage {
  return virtualHostsRouteConfiguration(name, [{ name, domains, routes }]);
}

/** A sidecar's route configuration for one port (RDS `<port>`): a virtual host per service on it. */
export function virtualHostsRouteConfiguration(name: string, hosts: VirtualHost[]): AnyMessage {
  return toAny("envoy.config.route.v3.RouteConfiguration", { name, virtual_hosts: hosts.map(envoyVirtualHost), validate_clusters: { value: false } });
}
