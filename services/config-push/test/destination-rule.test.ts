import { TYPE } from "@isthmus/xds";
import { describe, expect, it } from "vitest";
import type { View } from "../src/index.js";
import { REVIEWS as HOST, OPEN_CIRCUIT_BREAKER, reviewsMesh, translated } from "./envoy-config.js";

// A DestinationRule in, the Envoy cluster (and the routes to it) out, field by field
// against what Istio builds (pilot/pkg/networking/core cluster_traffic_policy.go,
// loadbalancer, cluster_tls.go; route hash policies in route/route.go).
type Obj = Record<string, unknown>;
const SIDECAR: View = { flavour: "envoy", network: "", inbound: [] };
const CLUSTER = `outbound|9080||${HOST}`;
const OPEN = OPEN_CIRCUIT_BREAKER;

function withDr(spec: Obj, cluster = CLUSTER) {
  const m = reviewsMesh([{ kind: "DestinationRule", spec: { host: "reviews", ...spec } }]);
  m.upsert("reviews-2", {
    cluster: "c1",
    namespace: "default",
    name: "reviews",
    hostname: HOST,
    ports: [{ name: "grpc", port: 9090, protocol: "GRPC" }],
    endpoints: [],
    stale: false,
  });
  const t = translated(m, SIDECAR);
  const rc = t.get(TYPE.route, "9080") as { virtual_hosts: Array<{ routes: Array<{ route: Obj }> }> };
  return { cluster: t.get(TYPE.cluster, cluster), route: rc.virtual_hosts[0]?.routes[0]?.route ?? {}, problems: t.problems, t };
}

/** The cluster without what every sidecar cluster carries (and lb_policy when it is Envoy's default, ROUND_ROBIN). */
function settings(c: Obj): Obj {
  const { name: _n, type: _t, eds_cluster_config: _e, lb_policy, ...rest } = c;
  return lb_policy === "ROUND_ROBIN" ? rest : { ...rest, lb_policy };
}

describe("DestinationRule in full for Envoy sidecars", () => {
  it.each<[string, Obj, Obj, Obj?]>([
    ["RANDOM (it used to become round robin)", { trafficPolicy: { loadBalancer: { simple: "RANDOM" } } }, { lb_policy: "RANDOM" }],
    [
      "LEAST_CONN with warmupDurationSecs: slow start",
      { trafficPolicy: { loadBalancer: { simple: "LEAST_CONN", warmupDurationSecs: "30s" } } },
      { lb_policy: "LEAST_REQUEST", least_request_lb_config: { slow_start_config: { slow_start_window: { seconds: "30" } } } },
    ],
    [
      "ROUND_ROBIN with warmupDurationSecs",
      { trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN", warmupDurationSecs: "1m" } } },
      { round_robin_lb_config: { slow_start_config: { slow_start_window: { seconds: "60" } } } },
    ],
    [
      "consistentHash on a header with a ring size: the routes to the host hash on it",
      { trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: "x-user", ringHash: { minimumRingSize: 2048 } } } } },
      { lb_policy: "RING_HASH", ring_hash_lb_config: { minimum_ring_size: { value: "2048" } } },
      { hash_policy: [{ header: { header_name: "x-user" } }] },
    ],
    [
      "consistentHash on a cookie",
      { trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: "session", path: "/", ttl: "10s" } } } } },
      { lb_policy: "RING_HASH" },
      { hash_policy: [{ cookie: { name: "session", path: "/", ttl: { seconds: "10" } } }] },
    ],
    [
      "consistentHash on the source IP",
      { trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true } } } },
      { lb_policy: "RING_HASH" },
      { hash_policy: [{ connection_properties: { source_ip: true } }] },
    ],
    [
      "consistentHash on a query parameter, with Maglev",
      { trafficPolicy: { loadBalancer: { consistentHash: { httpQueryParameterName: "user", maglev: { tableSize: 65537 } } } } },
      { lb_policy: "MAGLEV", maglev_lb_config: { table_size: { value: "65537" } } },
      { hash_policy: [{ query_parameter: { name: "user" } }] },
    ],
  ])("%s", (_what, spec, wantCluster, wantRoute) => {
    const { cluster, route, problems } = withDr(spec);
    expect(problems).toEqual([]);
    expect(settings(cluster)).toEqual({ connect_timeout: { seconds: "10" }, circuit_breakers: { thresholds: [OPEN] }, ...wantCluster });
    const { cluster: _c, timeout: _t, max_stream_duration: _m, retry_policy, ...rest } = route;
    expect(rest).toEqual(wantRoute ?? {});
    // Istio's DefaultConsistentHashPolicy: a hashing route does not move retries to other hosts.
    expect(Boolean((retry_policy as Obj).retry_host_predicate)).toBe(!wantRoute);
  });

  it("connectionPool, every field", () => {
    const { cluster } = withDr({
      trafficPolicy: {
        connectionPool: {
          tcp: { maxConnections: 100, connectTimeout: "250ms", tcpKeepalive: { probes: 3, time: "7200s", interval: "75s" }, maxConnectionDuration: "1h" },
          http: {
            http1MaxPendingRequests: 10,
            http2MaxRequests: 1000,
            maxRequestsPerConnection: 5,
            maxRetries: 4,
            idleTimeout: "30s",
            maxConcurrentStreams: 64,
          },
        },
      },
    });
    expect(settings(cluster)).toEqual({
      connect_timeout: { nanos: 250_000_000 },
      circuit_breakers: {
        thresholds: [
          {
            max_connections: { value: 100 },
            max_pending_requests: { value: 10 },
            max_requests: { value: 1000 },
            max_retries: { value: 4 },
            track_remaining: true,
          },
        ],
      },
      upstream_connection_options: { tcp_keepalive: { keepalive_probes: { value: 3 }, keepalive_time: { value: 7200 }, keepalive_interval: { value: 75 } } },
      typed_extension_protocol_options: {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
          "@type": "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          common_http_protocol_options: {
            idle_timeout: { seconds: "30" },
            max_connection_duration: { seconds: "3600" },
            max_requests_per_connection: { value: 5 },
          },
          use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: { max_concurrent_streams: { value: 64 } } },
        },
      },
    });
  });

  it("portLevelSettings replace the host's settings on their port only; a subset's settings replace whole settings", () => {
    const spec = {
      trafficPolicy: {
        loadBalancer: { simple: "LEAST_REQUEST" },
        connectionPool: { tcp: { maxConnections: 7 } },
        portLevelSettings: [{ port: { number: 9090 }, loadBalancer: { simple: "RANDOM" } }],
      },
      subsets: [{ name: "v1", labels: { version: "v1" }, trafficPolicy: { connectionPool: { http: { maxRetries: 1 } } } }],
    };
    const { cluster, t } = withDr(spec);
    expect(cluster.lb_policy).toBe("LEAST_REQUEST");
    expect(t.get(TYPE.cluster, `outbound|9090||${HOST}`).lb_policy).toBe("RANDOM");
    const v1 = t.get(TYPE.cluster, `outbound|9080|v1|${HOST}`) as { lb_policy: string; circuit_breakers: { thresholds: Obj[] } };
    expect(v1.lb_policy).toBe("LEAST_REQUEST");
    // Istio merges whole settings: the subset's connectionPool replaces the host's (maxConnections back to the default).
    expect(v1.circuit_breakers.thresholds).toEqual([{ ...OPEN, max_retries: { value: 1 } }]);
  });

  it.each<[string, Obj, Obj]>([
    [
      "SIMPLE with a CA, SNI and SANs",
      { mode: "SIMPLE", caCertificates: "/etc/certs/ca.pem", sni: "api.example.com", subjectAltNames: ["api.example.com"] },
      {
        common_tls_context: {
          validation_context: {
            trusted_ca: { filename: "/etc/certs/ca.pem" },
            match_typed_subject_alt_names: [
              { san_type: "DNS", matcher: { exact: "api.example.com" } },
              { san_type: "URI", matcher: { exact: "api.example.com" } },
            ],
          },
        },
        sni: "api.example.com",
      },
    ],
    [
      "SIMPLE without a CA: the system trust store",
      { mode: "SIMPLE" },
      { common_tls_context: { validation_context: { trusted_ca: { filename: "/etc/ssl/certs/ca-certificates.crt" } } } },
    ],
    ["SIMPLE with insecureSkipVerify: no verification", { mode: "SIMPLE", insecureSkipVerify: true }, { common_tls_context: {} }],
    [
      "MUTUAL with certificate files",
      { mode: "MUTUAL", clientCertificate: "/etc/certs/cert.pem", privateKey: "/etc/certs/key.pem", caCertificates: "/etc/certs/ca.pem" },
      {
        common_tls_context: {
          tls_certificates: [{ certificate_chain: { filename: "/etc/certs/cert.pem" }, private_key: { filename: "/etc/certs/key.pem" } }],
          validation_context: { trusted_ca: { filename: "/etc/certs/ca.pem" } },
        },
      },
    ],
  ])("TLS origination: %s", (_what, tls, want) => {
    const { cluster, problems } = withDr({ trafficPolicy: { tls } });
    expect(problems).toEqual([]);
    expect(cluster.transport_socket).toEqual({
      name: "envoy.transport_sockets.tls",
      typed_config: { "@type": "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", ...want },
    });
  });

  it("DISABLE sends plaintext even where mesh mTLS would apply", () => {
    const m = reviewsMesh([
      { kind: "PeerAuthentication", spec: { mtls: { mode: "STRICT" } } },
      { kind: "DestinationRule", spec: { host: "reviews", trafficPolicy: { tls: { mode: "DISABLE" } } } },
    ]);
    expect(translated(m, SIDECAR).get(TYPE.cluster, CLUSTER).transport_socket).toBeUndefined();
  });

  it.each([
    [{ tls: { mode: "SIMPLE", credentialName: "api-cert" } }, /credentialName is not supported/],
    [{ tls: { mode: "MUTUAL", caCertificates: "/ca.pem" } }, /MUTUAL needs clientCertificate and privateKey/],
    [{ loadBalancer: { localityLbSetting: { enabled: true } } }, /localityLbSetting is not supported/],
    [{ connectionPool: { http: { h2UpgradePolicy: "UPGRADE" } } }, /h2UpgradePolicy is not supported/],
  ])("refuses what it cannot honour with the reason; the host keeps default policies (%#)", (trafficPolicy, reason) => {
    const { cluster, problems } = withDr({ trafficPolicy });
    // Once per port of the host.
    const problem = expect.objectContaining({ resource: "DestinationRule default/c0", reason: expect.stringMatching(reason) });
    expect(problems).toEqual([problem, problem]);
    expect(settings(cluster)).toEqual({ connect_timeout: { seconds: "10" }, circuit_breakers: { thresholds: [OPEN] } });
  });
});
