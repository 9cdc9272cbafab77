import { TYPE } from "@isthmus/xds";
import { describe, expect, it } from "vitest";
import type { View } from "../src/index.js";
import { REVIEWS as HOST, reviewsMesh, translated } from "./envoy-config.js";

// Istio VirtualService http features in, the Envoy route out, field by field against what
// Istio builds (pilot/pkg/networking/core/route/route.go): rewrite, redirect, mirror,
// header operations, CORS.
type Obj = Record<string, unknown>;
const SIDECAR: View = { flavour: "envoy", network: "", inbound: [] };

function routesOf(http: Obj[]) {
  const m = reviewsMesh([{ kind: "VirtualService", spec: { hosts: ["reviews"], http } }]);
  const t = translated(m, SIDECAR);
  const rc = t.get(TYPE.route, "9080") as { virtual_hosts: Array<{ routes: Obj[] }> };
  return { routes: rc.virtual_hosts[0]?.routes ?? [], problems: t.problems, listener: t.get(TYPE.listener, "0.0.0.0_9080") };
}
const to = (subset = "") => ({ destination: { host: "reviews", ...(subset ? { subset } : {}) } });
/** The route entry without what every route carries (match, cluster, timeouts, retries). */
function features(r: Obj | undefined): Obj {
  const { match: _m, route, ...rest } = (r ?? {}) as Obj & { route?: Obj };
  const { cluster: _c, timeout: _t, max_stream_duration: _d, retry_policy: _r, ...action } = route ?? {};
  return { ...rest, ...(Object.keys(action).length ? { route: action } : {}) };
}

describe("VirtualService HTTP features for Envoy sidecars", () => {
  it.each<[string, Obj, Obj]>([
    [
      "rewrite: uri replaces the matched prefix, authority the Host",
      { match: [{ uri: { prefix: "/v1/" } }], rewrite: { uri: "/", authority: "reviews.internal" }, route: [to()] },
      { route: { prefix_rewrite: "/", host_rewrite_literal: "reviews.internal" } },
    ],
    [
      "rewrite: uriRegexRewrite is a regex_rewrite",
      { rewrite: { uriRegexRewrite: { match: "^/service/([^/]+)(/.*)$", rewrite: "\\2/instance/\\1" } }, route: [to()] },
      { route: { regex_rewrite: { pattern: { regex: "^/service/([^/]+)(/.*)$" }, substitution: "\\2/instance/\\1" } } },
    ],
    [
      "redirect alone (the route used to be dropped, leaving 404s): path, host, scheme, code, the request's port",
      {
        match: [{ uri: { exact: "/old" } }],
        redirect: { uri: "/new", authority: "example.com", scheme: "https", redirectCode: 302, derivePort: "FROM_REQUEST_PORT" },
      },
      { redirect: { path_redirect: "/new", host_redirect: "example.com", scheme_redirect: "https", port_redirect: 9080, response_code: "FOUND" } },
    ],
    ["redirect with Istio's default code 301", { redirect: { uri: "/x" } }, { redirect: { path_redirect: "/x", response_code: "MOVED_PERMANENTLY" } }],
    [
      "mirror with mirrorPercentage, and mirrors",
      {
        route: [to("v1")],
        mirror: { host: "reviews", subset: "v2" },
        mirrorPercentage: { value: 25 },
        mirrors: [{ destination: { host: "reviews", subset: "v3" } }],
      },
      {
        route: {
          request_mirror_policies: [
            { cluster: `outbound|9080|v2|${HOST}`, runtime_fraction: { default_value: { numerator: 250_000, denominator: "MILLION" } } },
            { cluster: `outbound|9080|v3|${HOST}`, runtime_fraction: { default_value: { numerator: 1_000_000, denominator: "MILLION" } } },
          ],
        },
      },
    ],
    [
      "header operations: set overwrites, add appends, remove",
      {
        route: [to()],
        headers: { request: { set: { "x-a": "1" }, add: { "x-b": "2" }, remove: ["x-c"] }, response: { set: { "x-d": "4" }, remove: ["server"] } },
      },
      {
        request_headers_to_add: [
          { header: { key: "x-a", value: "1" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
          { header: { key: "x-b", value: "2" }, append_action: "APPEND_IF_EXISTS_OR_ADD" },
        ],
        request_headers_to_remove: ["x-c"],
        response_headers_to_add: [{ header: { key: "x-d", value: "4" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
        response_headers_to_remove: ["server"],
      },
    ],
    [
      "corsPolicy: the cors filter's per-route policy",
      {
        route: [to()],
        corsPolicy: {
          allowOrigins: [{ exact: "https://a.example" }, { regex: "https://.*\\.b\\.example" }],
          allowMethods: ["GET", "POST"],
          allowHeaders: ["x-token"],
          exposeHeaders: ["x-trace"],
          maxAge: "24h",
          allowCredentials: true,
        },
      },
      {
        typed_per_filter_config: {
          "envoy.filters.http.cors": {
            "@type": "envoy.extensions.filters.http.cors.v3.CorsPolicy",
            allow_origin_string_match: [{ exact: "https://a.example" }, { safe_regex: { regex: "https://.*\\.b\\.example" } }],
            allow_methods: "GET,POST",
            allow_headers: "x-token",
            expose_headers: "x-trace",
            max_age: "86400",
            allow_credentials: { value: true },
            filter_enabled: { default_value: { numerator: 100, denominator: "HUNDRED" } },
            forward_not_matching_preflights: { value: true },
          },
        },
      },
    ],
  ])("%s", (_what, http, want) => {
    const { routes, problems } = routesOf([http]);
    expect(problems).toEqual([]);
    expect(routes).toHaveLength(1);
    expect(features(routes[0])).toEqual(want);
  });

  it("puts the cors filter in every sidecar HTTP connection manager, before fault injection and the router", () => {
    const { listener } = routesOf([{ route: [to()] }]);
    const hcm = ((listener.filter_chains as Array<{ filters: Array<{ typed_config: { http_filters: Array<{ name: string }> } }> }>)[0]?.filters[0]?.typed_config
      .http_filters ?? []) as Array<{ name: string }>;
    expect(hcm.map((f) => f.name)).toEqual(["envoy.filters.http.cors", "envoy.filters.http.fault", "envoy.filters.http.router"]);
  });

  it.each([
    [{ redirect: { uri: "/x", redirectCode: 305 } }, /redirect.redirectCode 305 is not one of 301, 302, 303, 307, 308/],
    [{ route: [{ ...to(), headers: { request: { set: { a: "b" } } } }] }, /per-destination header operations/],
    [{ route: [to()], rewrite: { uri: "/", uriRegexRewrite: { match: "a", rewrite: "b" } } }, /uri and uriRegexRewrite cannot both be set/],
  ])("refuses what it cannot honour, with the reason, and the host keeps its default route (%#)", (http, reason) => {
    const { routes, problems } = routesOf([http]);
    expect(problems).toEqual([expect.objectContaining({ resource: "VirtualService default/c0", reason: expect.stringMatching(reason) })]);
    expect((routes[0]?.route as Obj | undefined)?.cluster).toBe(`outbound|9080||${HOST}`);
  });
});
