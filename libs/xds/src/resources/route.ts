import { type AnyMessage, toAny } from "../protos.js";
import type { HashKey } from "./cluster.js";
import { CORS_FILTER, corsOf, hashPolicyOf, headerOpsOf, mirrorsOf, redirectOf, rewriteOf } from "./http-features.js";
import { ISTIO_ROUTE_TIMEOUT } from "./istio-defaults.js";
import { envoyRetryPolicy } from "./retry.js";

export interface RouteMatch {
  prefix?: string;
  path?: string;
  regex?: string;
  headers?: Array<{ name: string; exact?: string; prefix?: string; regex?: string; invert?: boolean }>;
}

export interface RouteAction {
  /** A single cluster, or weighted clusters. */
  clusters: Array<{ name: string; weight: number }>;
  /** The route's timeout; unset: none for gRPC, Istio's disabled timeout (0s) for Envoy. */
  timeoutMs?: number;
  /**
   * Istio's HTTPRetry. Unset: Istio's default policy for Envoy, none for gRPC; `attempts: 0`
   * disables retries. `retryOn` may list HTTP status codes (they become retriable_status_codes).
   */
  retry?: {
    attempts: number;
    retryOn?: string;
    perTryTimeoutMs?: number;
    retryRemoteLocalities?: boolean;
    retryIgnorePreviousHosts?: boolean;
    backoffMs?: number;
  };
  fault?: {
    abort?: { percent: number; grpcStatus?: number; httpStatus?: number };
    delay?: { percent: number; fixedDelayMs: number };
  };
  /** Istio's HTTPRewrite: the matched prefix (or path) replaced, a regex rewrite, the authority. */
  rewrite?: { prefix?: string; regex?: { pattern: string; substitution: string }; authority?: string };
  /** Istio's HTTPRedirect: answered by the proxy (no cluster). */
  redirect?: { path?: string; host?: string; port?: number; scheme?: string; code?: number };
  /** Istio's mirror(s): a copy of each request, fire and forget, to these clusters. */
  mirrors?: Array<{ cluster: string; percent: number }>;
  /** Istio's Headers: request and response header operations. */
  headers?: { request?: HeaderOps; response?: HeaderOps };
  /** Istio's CorsPolicy (Envoy's cors filter, per route). */
  cors?: CorsPolicy;
  /** The consistent-hash key of the destination's DestinationRule. */
  hash?: HashKey;
}

export interface HeaderOps {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface CorsPolicy {
  allowOrigins?: Array<{ exact?: string; prefix?: string; regex?: string }>;
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
  /** Forward preflight requests that match no origin (Istio's unmatchedPreflights FORWARD, the default). */
  forwardUnmatchedPreflights?: boolean;
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

/** gRPC's retry policy (gRFC A44): only when asked for; retry_on takes gRPC status names. */
function grpcRetry(r: RouteAction["retry"]): Record<string, unknown> | undefined {
  if (!r || r.attempts <= 0) return undefined;
  return {
    retry_on: r.retryOn ?? "unavailable,cancelled,resource-exhausted",
    num_retries: { value: r.attempts },
    ...(r.perTryTimeoutMs ? { per_try_timeout: duration(r.perTryTimeoutMs) } : {}),
    ...(r.backoffMs ? { retry_back_off: { base_interval: duration(r.backoffMs) } } : {}),
  };
}

function envoyAction(a: RouteAction, flavour: "grpc" | "envoy"): Record<string, unknown> {
  const route: Record<string, unknown> =
    a.clusters.length === 1
      ? { cluster: a.clusters[0]?.name }
      : { weighted_clusters: { clusters: a.clusters.map((c) => ({ name: c.name, weight: { value: c.weight } })) } };
  if (flavour === "envoy") {
    // Istio: the VirtualService's timeout or none (0s), and a grpc-timeout header capped by it.
    const timeout = a.timeoutMs !== undefined ? duration(a.timeoutMs) : ISTIO_ROUTE_TIMEOUT;
    route.timeout = timeout;
    route.max_stream_duration = { grpc_timeout_header_max: timeout };
    const retry = envoyRetryPolicy(a.retry, a.hash !== undefined);
    if (retry) route.retry_policy = retry;
  } else {
    if (a.timeoutMs !== undefined) route.max_stream_duration = { max_stream_duration: duration(a.timeoutMs) };
    const retry = grpcRetry(a.retry);
    if (retry) route.retry_policy = retry;
  }
  Object.assign(route, rewriteOf(a.rewrite), mirrorsOf(a.mirrors), hashPolicyOf(a.hash));
  const perFilter: Record<string, AnyMessage> = {};
  if (a.fault) {
    const fault: Record<string, unknown> = {};
    if (a.fault.abort) {
      fault.abort = {
        percentage: fraction(a.fault.abort.percent),
        ...(a.fault.abort.grpcStatus !== undefined ? { grpc_status: a.fault.abort.grpcStatus } : { http_status: a.fault.abort.httpStatus ?? 503 }),
      };
    }
    if (a.fault.delay) fault.delay = { percentage: fraction(a.fault.delay.percent), fixed_delay: duration(a.fault.delay.fixedDelayMs) };
    perFilter["envoy.filters.http.fault"] = toAny("envoy.extensions.filters.http.fault.v3.HTTPFault", fault);
  }
  // Envoy only: gRPC has no cors filter, and refuses per-route config of filters it does not have (gRFC A39).
  if (a.cors && flavour === "envoy") perFilter[CORS_FILTER] = corsOf(a.cors);
  return {
    ...(a.redirect ? { redirect: redirectOf(a.redirect) } : { route }),
    ...headerOpsOf(a.headers),
    ...(Object.keys(perFilter).length ? { typed_per_filter_config: perFilter } : {}),
  };
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Route[];
}

const envoyVirtualHost = (v: VirtualHost, flavour: "grpc" | "envoy") => ({
  name: v.name,
  domains: v.domains,
  routes: v.routes.map((r) => ({ ...(r.name ? { name: r.name } : {}), match: envoyMatch(r.match), ...envoyAction(r.action, flavour) })),
});

const routeConfig = (name: string, hosts: VirtualHost[], flavour: "grpc" | "envoy") =>
  toAny("envoy.config.route.v3.RouteConfiguration", {
    name,
    virtual_hosts: hosts.map((h) => envoyVirtualHost(h, flavour)),
    validate_clusters: { value: false },
  });

/** A proxyless gRPC client's route configuration: one virtual host, the routes in order, first match wins. */
export function routeConfiguration(name: string, domains: string[], routes: Route[]): AnyMessage {
  return routeConfig(name, [{ name, domains, routes }], "grpc");
}

/** A sidecar's route configuration for one port (RDS `<port>`): a virtual host per service on it, with Istio's route defaults. */
export function virtualHostsRouteConfiguration(name: string, hosts: VirtualHost[]): AnyMessage {
  return routeConfig(name, hosts, "envoy");
}
