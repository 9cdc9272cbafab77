import { TYPE } from "@isthmus/xds";
import { describe, expect, it } from "vitest";
import type { View } from "../src/index.js";
import { REVIEWS as HOST, OPEN_CIRCUIT_BREAKER, reviewsMesh, translated } from "./envoy-config.js";

// Istio config in, the Envoy resource out, field by field against what Istio builds
// (istio/istio pilot/pkg/networking/core: route/retry/retry.go, route/route.go setTimeout,
// listener_builder.go buildHTTPConnectionManager, cluster_builder.go) where Envoy's own
// defaults differ. Proxyless gRPC keeps gRPC's.
const ENVOY: View = { flavour: "envoy", network: "", inbound: [{ port: 9080, protocol: "HTTP", namespace: "default" }] };
const GRPC: View = { flavour: "grpc", network: "", inbound: [] };

type Obj = Record<string, unknown>;

const build = (view: View, configs: Array<{ kind: string; spec: Obj }> = []) => translated(reviewsMesh(configs), view);

const routeAction = (view: View, configs: Array<{ kind: string; spec: Obj }> = []) => {
  const name = view.flavour === "envoy" ? "9080" : `${HOST}:9080`;
  const rc = build(view, configs).get(TYPE.route, name) as { virtual_hosts: Array<{ routes: Array<{ route: Obj }> }> };
  return rc.virtual_hosts[0]?.routes[0]?.route as Obj;
};
const vs = (http: Obj) => ({ kind: "VirtualService", spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" } }], ...http }] } });

const ISTIO_DEFAULT_RETRY = {
  retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
  num_retries: { value: 2 },
  retriable_status_codes: [503],
  retry_host_predicate: [
    { name: "envoy.retry_host_predicates.previous_hosts", typed_config: { "@type": "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" } },
  ],
  host_selection_retry_max_attempts: "5",
};

describe("Istio's defaults on Envoy routes", () => {
  it.each<[string, Array<{ kind: string; spec: Obj }>, Obj]>([
    [
      "no VirtualService: timeout disabled (Envoy: 15 s), grpc-timeout uncapped, Istio's default retry policy (Envoy: none)",
      [],
      { timeout: {}, max_stream_duration: { grpc_timeout_header_max: {} }, retry_policy: ISTIO_DEFAULT_RETRY },
    ],
    [
      "timeout: 5s caps the route and the grpc-timeout header",
      [vs({ timeout: "5s" })],
      { timeout: { seconds: "5" }, max_stream_duration: { grpc_timeout_header_max: { seconds: "5" } }, retry_policy: ISTIO_DEFAULT_RETRY },
    ],
    ["retries.attempts: 0 disables retries", [vs({ retries: { attempts: 0 } })], { timeout: {}, max_stream_duration: { grpc_timeout_header_max: {} } }],
    [
      "retries with every field: status codes in retryOn become retriable_status_codes",
      [vs({ retries: { attempts: 4, retryOn: "gateway-error,503,504", perTryTimeout: "1.5s", retryRemoteLocalities: true, backoff: "25ms" } })],
      {
        timeout: {},
        max_stream_duration: { grpc_timeout_header_max: {} },
        retry_policy: {
          ...ISTIO_DEFAULT_RETRY,
          retry_on: "gateway-error,retriable-status-codes",
          retriable_status_codes: [503, 504],
          num_retries: { value: 4 },
          per_try_timeout: { seconds: "1", nanos: 500_000_000 },
          retry_priority: {
            name: "envoy.retry_priorities.previous_priorities",
            typed_config: { "@type": "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig", update_frequency: 2 },
          },
          retry_back_off: { base_interval: { nanos: 25_000_000 } },
        },
      },
    ],
    [
      "retryOn without codes drops the default 503, retryIgnorePreviousHosts: false drops the host predicate",
      [vs({ retries: { attempts: 1, retryOn: "5xx", retryIgnorePreviousHosts: false } })],
      {
        timeout: {},
        max_stream_duration: { grpc_timeout_header_max: {} },
        retry_policy: { retry_on: "5xx", num_retries: { value: 1 }, host_selection_retry_max_attempts: "5" },
      },
    ],
  ])("%s", (_what, configs, want) => {
    const { cluster: _c, ...action } = routeAction(ENVOY, configs);
    expect(action).toEqual(want);
  });

  it("leaves proxyless gRPC on gRPC's defaults: no retries unless asked, gRPC status names", () => {
    expect(routeAction(GRPC)).toEqual({ cluster: `outbound|9080||${HOST}` });
    expect(routeAction(GRPC, [vs({ retries: { attempts: 3 }, timeout: "2s" })])).toEqual({
      cluster: `outbound|9080||${HOST}`,
      max_stream_duration: { max_stream_duration: { seconds: "2" } },
      retry_policy: { retry_on: "unavailable,cancelled,resource-exhausted", num_retries: { value: 3 } },
    });
  });
});

describe("Istio's defaults on Envoy listeners and clusters", () => {
  it("HTTP connection managers allow websocket upgrades, disable the stream idle timeout, normalise paths, trust no XFF", () => {
    const { get } = build(ENVOY);
    const hcmOf = (l: Obj, i = 0) => ((l.filter_chains as Array<{ filters: Array<{ typed_config: Obj }> }>)[i]?.filters[0]?.typed_config ?? {}) as Obj;
    const istio = {
      upgrade_configs: [{ upgrade_type: "websocket" }],
      stream_idle_timeout: {},
      normalize_path: { value: true },
      use_remote_address: { value: false },
    };
    const outbound = hcmOf(get(TYPE.listener, "0.0.0.0_9080") as Obj);
    expect(outbound).toMatchObject(istio);
    expect(outbound.rds).toEqual({ config_source: { ads: {}, resource_api_version: "V3", initial_fetch_timeout: {} }, route_config_name: "9080" });
    const inbound = hcmOf(get(TYPE.listener, "virtualInbound") as Obj);
    expect(inbound).toMatchObject(istio);
    expect(JSON.stringify(inbound.route_config)).toContain('"timeout":{}');
  });

  it("clusters get Istio's 10 s connect timeout and circuit breakers opened up, a DestinationRule's limit on top", () => {
    const thresholds = (c: unknown) => (c as { circuit_breakers: { thresholds: Obj[] } }).circuit_breakers.thresholds;
    const open = OPEN_CIRCUIT_BREAKER;
    const plain = build(ENVOY);
    const outbound = plain.get(TYPE.cluster, `outbound|9080||${HOST}`) as Obj;
    expect(outbound.connect_timeout).toEqual({ seconds: "10" });
    expect(thresholds(outbound)).toEqual([open]);
    for (const name of ["inbound|9080||", "PassthroughCluster"]) {
      const c = plain.get(TYPE.cluster, name) as Obj;
      expect([c.connect_timeout, thresholds(c)]).toEqual([{ seconds: "10" }, [open]]);
    }
    const limited = build(ENVOY, [
      { kind: "DestinationRule", spec: { host: "reviews", trafficPolicy: { connectionPool: { http: { http2MaxRequests: 64 } } } } },
    ]);
    expect(thresholds(limited.get(TYPE.cluster, `outbound|9080||${HOST}`))).toEqual([{ ...open, max_requests: { value: 64 } }]);
    // gRPC: neither (its clients have no connect timeout field and read only max_requests).
    const grpc = build(GRPC).get(TYPE.cluster, `outbound|9080||${HOST}`) as Obj;
    expect([grpc.connect_timeout, grpc.circuit_breakers]).toEqual([undefined, undefined]);
  });
});
