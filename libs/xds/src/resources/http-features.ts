import { type AnyMessage, toAny } from "../protos.js";
import type { HashKey } from "./cluster.js";
import type { CorsPolicy, HeaderOps, RouteAction } from "./route.js";

/*
 * Route-level HTTP features in the shape Istio gives Envoy (pilot/pkg/networking/core/route
 * route.go): rewrite, redirect, mirrors, header operations, CORS.
 */

export const CORS_FILTER = "envoy.filters.http.cors";

const fraction = (percent: number) => ({ numerator: Math.round(percent * 10_000), denominator: "MILLION" });

/** `rewrite.uri` replaces the matched prefix (Envoy's prefix_rewrite), `uriRegexRewrite` is a regex_rewrite, `authority` the Host. */
export function rewriteOf(r: RouteAction["rewrite"]): Record<string, unknown> {
  if (!r) return {};
  return {
    ...(r.prefix !== undefined ? { prefix_rewrite: r.prefix } : {}),
    ...(r.regex ? { regex_rewrite: { pattern: { regex: r.regex.pattern }, substitution: r.regex.substitution } } : {}),
    ...(r.authority ? { host_rewrite_literal: r.authority } : {}),
  };
}

const REDIRECT_CODES: Record<number, string> = {
  301: "MOVED_PERMANENTLY",
  302: "FOUND",
  303: "SEE_OTHER",
  307: "TEMPORARY_REDIRECT",
  308: "PERMANENT_REDIRECT",
};
export const REDIRECT_STATUS_CODES = Object.keys(REDIRECT_CODES).map(Number);

/** An Envoy RedirectAction; Istio's default code is 301. */
export function redirectOf(r: NonNullable<RouteAction["redirect"]>): Record<string, unknown> {
  return {
    ...(r.scheme ? { scheme_redirect: r.scheme } : {}),
    ...(r.host ? { host_redirect: r.host } : {}),
    ...(r.port ? { port_redirect: r.port } : {}),
    ...(r.path ? { path_redirect: r.path } : {}),
    response_code: REDIRECT_CODES[r.code ?? 301] ?? "MOVED_PERMANENTLY",
  };
}

export function mirrorsOf(m: RouteAction["mirrors"]): Record<string, unknown> {
  if (!m?.length) return {};
  return { request_mirror_policies: m.map((x) => ({ cluster: x.cluster, runtime_fraction: { default_value: fraction(x.percent) } })) };
}

// Istio's `set` replaces a header, `add` appends to it.
const toAdd = (ops: HeaderOps) => [
  ...Object.entries(ops.set ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" })),
  ...Object.entries(ops.add ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: "APPEND_IF_EXISTS_OR_ADD" })),
];

export function headerOpsOf(h: RouteAction["headers"]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (h?.request) {
    const add = toAdd(h.request);
    if (add.length) out.request_headers_to_add = add;
    if (h.request.remove?.length) out.request_headers_to_remove = h.request.remove;
  }
  if (h?.response) {
    const add = toAdd(h.response);
    if (add.length) out.response_headers_to_add = add;
    if (h.response.remove?.length) out.response_headers_to_remove = h.response.remove;
  }
  return out;
}

/** The cors filter's per-route policy, as Istio's translateCORSPolicy fills it. */
export function corsOf(c: CorsPolicy): AnyMessage {
  return toAny("envoy.extensions.filters.http.cors.v3.CorsPolicy", {
    allow_origin_string_match: (c.allowOrigins ?? []).map((o) =>
      o.exact !== undefined ? { exact: o.exact } : o.prefix !== undefined ? { prefix: o.prefix } : { safe_regex: { regex: o.regex ?? ".*" } },
    ),
    ...(c.allowMethods?.length ? { allow_methods: c.allowMethods.join(",") } : {}),
    ...(c.allowHeaders?.length ? { allow_headers: c.allowHeaders.join(",") } : {}),
    ...(c.exposeHeaders?.length ? { expose_headers: c.exposeHeaders.join(",") } : {}),
    ...(c.maxAgeSeconds !== undefined ? { max_age: String(c.maxAgeSeconds) } : {}),
    ...(c.allowCredentials !== undefined ? { allow_credentials: { value: c.allowCredentials } } : {}),
    filter_enabled: { default_value: { numerator: 100, denominator: "HUNDRED" } },
    forward_not_matching_preflights: { value: c.forwardUnmatchedPreflights ?? true },
  });
}

const ms = (v: number) => ({ seconds: Math.floor(v / 1000), nanos: (v % 1000) * 1_000_000 });

/** Envoy hashes per route: the destination's consistent-hash key as the route's hash_policy. */
export function hashPolicyOf(h: HashKey | undefined): Record<string, unknown> {
  if (!h) return {};
  const p = h.header
    ? { header: { header_name: h.header } }
    : h.cookie
      ? {
          cookie: {
            name: h.cookie.name,
            ...(h.cookie.path ? { path: h.cookie.path } : {}),
            ...(h.cookie.ttlMs !== undefined ? { ttl: ms(h.cookie.ttlMs) } : {}),
          },
        }
      : h.sourceIp
        ? { connection_properties: { source_ip: true } }
        : { query_parameter: { name: h.queryParameter ?? "" } };
  return { hash_policy: [p] };
}
