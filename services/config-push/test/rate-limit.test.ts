import { TYPE } from "@isthmus/xds";
import { describe, expect, it } from "vitest";
import type { View } from "../src/index.js";
import { reviewsMesh, translated } from "./envoy-config.js";

// Local rate limiting (seed 003) in the shape of ASM's ASMLocalRateLimiter: the limiter in,
// Envoy's local_ratelimit filter on the selected sidecar's inbound port out.
type Obj = Record<string, unknown>;
const reviewsPod: View = {
  flavour: "envoy",
  network: "",
  inbound: [{ port: 9080, protocol: "HTTP", namespace: "default", labels: { app: "reviews", version: "v1" } }],
};
const limiter = (spec: Obj) => ({ kind: "ASMLocalRateLimiter", spec });
const ten = {
  workloadSelector: { labels: { app: "reviews" } },
  configs: [{ match: { vhost: { name: "*", port: 9080 } }, limit: { fill_interval: { seconds: 1 }, quota: 10 } }],
};

function inboundFilters(configs: Array<{ kind: string; spec: Obj }>, view = reviewsPod) {
  const l = translated(reviewsMesh(configs), view).get(TYPE.listener, "virtualInbound") as {
    filter_chains: Array<{ filters: Array<{ typed_config: { http_filters: Obj[] } }> }>;
  };
  return l.filter_chains[0]?.filters[0]?.typed_config.http_filters ?? [];
}

describe("local rate limiting", () => {
  it("puts a token bucket on the selected sidecar's inbound port, before the router", () => {
    expect(inboundFilters([limiter(ten)])).toEqual([
      {
        name: "envoy.filters.http.local_ratelimit",
        typed_config: {
          "@type": "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
          stat_prefix: "inbound_9080_rate_limit",
          token_bucket: { max_tokens: 10, tokens_per_fill: { value: 10 }, fill_interval: { seconds: "1" } },
          filter_enabled: { default_value: { numerator: 100, denominator: "HUNDRED" }, runtime_key: "local_rate_limit_enabled" },
          filter_enforced: { default_value: { numerator: 100, denominator: "HUNDRED" }, runtime_key: "local_rate_limit_enforced" },
          local_rate_limit_per_downstream_connection: false,
        },
      },
      { name: "envoy.filters.http.router", typed_config: { "@type": "envoy.extensions.filters.http.router.v3.Router" } },
    ]);
  });

  it.each<[string, Obj]>([
    ["another workload", { ...ten, workloadSelector: { labels: { app: "ratings" } } }],
    ["another port", { ...ten, configs: [{ match: { vhost: { port: 9999 } }, limit: { fill_interval: { seconds: 1 }, quota: 10 } }] }],
    [
      "a route match (not supported: skipped)",
      { ...ten, configs: [{ match: { vhost: { port: 9080, route: { name_match: "x" } } }, limit: { fill_interval: "1s", quota: 5 } }] },
    ],
  ])("leaves %s alone", (_what, spec) => {
    expect(inboundFilters([limiter(spec)]).map((f) => f.name)).toEqual(["envoy.filters.http.router"]);
  });

  it("says what it does not honour, and that proxyless gRPC is not rate limited", () => {
    const grpc: View = { flavour: "grpc", network: "", inbound: [] };
    const t = translated(
      reviewsMesh([
        limiter({ ...ten, configs: [{ match: { vhost: { port: 9080, route: { header_match: [] } } }, limit: { fill_interval: "1s", quota: 5 } }] }),
      ]),
      grpc,
    );
    expect(t.problems).toEqual([
      { resource: "ASMLocalRateLimiter default/c0", reason: "match.vhost.route and limit_overrides are not supported; that config is skipped" },
      { resource: "ASMLocalRateLimiter default/c0", reason: expect.stringMatching(/not supported for proxyless gRPC/) },
    ]);
  });
});
