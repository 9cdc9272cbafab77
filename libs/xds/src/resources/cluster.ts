import { type AnyMessage, toAny } from "../protos.js";
import { ISTIO_CIRCUIT_BREAKER, ISTIO_CONNECT_TIMEOUT } from "./istio-defaults.js";
import { originationTls, type TransportSocket } from "./tls.js";

export interface ClusterPolicy {
  lbPolicy?: "ROUND_ROBIN" | "LEAST_REQUEST" | "RING_HASH" | "RANDOM" | "MAGLEV";
  /** The consistent-hash key; it goes on the routes to this cluster (Envoy hashes per route). */
  hash?: HashKey;
  minimumRingSize?: number;
  maglevTableSize?: number;
  /** Slow start (Istio's warmupDurationSecs) for ROUND_ROBIN and LEAST_REQUEST. */
  slowStartMs?: number;
  outlierDetection?: { consecutive5xx?: number; intervalMs?: number; baseEjectionMs?: number; maxEjectionPercent?: number };
  maxRequests?: number;
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRetries?: number;
  connectTimeoutMs?: number;
  maxRequestsPerConnection?: number;
  idleTimeoutMs?: number;
  maxConnectionDurationMs?: number;
  maxConcurrentStreams?: number;
  tcpKeepalive?: { probes?: number; timeS?: number; intervalS?: number };
  /** mTLS to the endpoints (Istio's ISTIO_MUTUAL). */
  tls?: TransportSocket;
  /** TLS origination (Istio's SIMPLE / MUTUAL with files), Envoy only. */
  origination?: { caFile?: string; certFile?: string; keyFile?: string; sni?: string; subjectAltNames?: string[] };
}

/** A consistent-hash key (Istio's consistentHash): a header, a cookie, the source IP or a query parameter. */
export interface HashKey {
  header?: string;
  cookie?: { name: string; path?: string; ttlMs?: number };
  sourceIp?: boolean;
  queryParameter?: string;
}

const duration = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });

/**
 * A cluster whose endpoints come from EDS over ADS, with its load-balancing and outlier
 * policy; for Envoy with Istio's connect timeout and circuit-breaker defaults.
 */
export function edsCluster(name: string, policy: ClusterPolicy = {}, flavour: "grpc" | "envoy" = "grpc"): AnyMessage {
  const c: Record<string, unknown> = {
    name,
    type: "EDS",
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: "V3" }, service_name: name },
    lb_policy: policy.lbPolicy ?? "ROUND_ROBIN",
  };
  if (flavour === "envoy") Object.assign(c, envoyClusterSettings(policy));
  if (policy.outlierDetection) {
    const o = policy.outlierDetection;
    // Envoy reads consecutive_5xx; gRPC clients implement only success-rate and
    // failure-percentage ejection (gRFC A50), so the same intent is also expressed as
    // "eject a host failing at least half its requests, once it has seen this many".
    c.outlier_detection = {
      consecutive_5xx: { value: o.consecutive5xx ?? 5 },
      enforcing_consecutive_5xx: { value: 100 },
      interval: duration(o.intervalMs ?? 10_000),
      base_ejection_time: duration(o.baseEjectionMs ?? 30_000),
      max_ejection_percent: { value: o.maxEjectionPercent ?? 10 },
      failure_percentage_threshold: { value: 50 },
      enforcing_failure_percentage: { value: 100 },
      failure_percentage_minimum_hosts: { value: 1 },
      failure_percentage_request_volume: { value: o.consecutive5xx ?? 5 },
      // Spelled out: grpc-js (1.14) throws from a timer when success-rate ejection runs
      // with success_rate_minimum_hosts unset and no host has enough volume.
      enforcing_success_rate: { value: 0 },
      success_rate_minimum_hosts: { value: 5 },
      success_rate_request_volume: { value: 100 },
    };
  }
  if (policy.tls) c.transport_socket = policy.tls;
  if (policy.maxRequests && flavour === "grpc") c.circuit_breakers = { thresholds: [{ max_requests: { value: policy.maxRequests } }] };
  return toAny("envoy.config.cluster.v3.Cluster", c);
}

/** A sidecar's inbound cluster: the application on localhost behind the proxy. */
export function inboundStaticCluster(name: string, port: number): AnyMessage {
  return toAny("envoy.config.cluster.v3.Cluster", {
    name,
    type: "STATIC",
    connect_timeout: ISTIO_CONNECT_TIMEOUT,
    circuit_breakers: { thresholds: [ISTIO_CIRCUIT_BREAKER] },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }],
    },
  });
}

/** Istio's PassthroughCluster: traffic to destinations the mesh does not know goes where it was headed. */
export function passthroughCluster(): AnyMessage {
  return toAny("envoy.config.cluster.v3.Cluster", {
    name: "PassthroughCluster",
    type: "ORIGINAL_DST",
    lb_policy: "CLUSTER_PROVIDED",
    connect_timeout: ISTIO_CONNECT_TIMEOUT,
    circuit_breakers: { thresholds: [ISTIO_CIRCUIT_BREAKER] },
  });
}

/** Istio's BlackHoleCluster: a cluster with no endpoints, where REGISTRY_ONLY sends traffic to unknown destinations. */
export function blackHoleCluster(): AnyMessage {
  return toAny("envoy.config.cluster.v3.Cluster", { name: "BlackHoleCluster", type: "STATIC", connect_timeout: ISTIO_CONNECT_TIMEOUT });
}

const seconds = (ms: number) => duration(ms);
const limit = (v: number | undefined) => (v !== undefined ? { value: v } : undefined);

/** What Envoy reads of a DestinationRule beyond LB and outlier detection, over Istio's defaults. */
function envoyClusterSettings(p: ClusterPolicy): Record<string, unknown> {
  const thresholds = {
    ...ISTIO_CIRCUIT_BREAKER,
    ...(p.maxConnections !== undefined ? { max_connections: limit(p.maxConnections) } : {}),
    ...(p.maxPendingRequests !== undefined ? { max_pending_requests: limit(p.maxPendingRequests) } : {}),
    ...(p.maxRequests !== undefined ? { max_requests: limit(p.maxRequests) } : {}),
    ...(p.maxRetries !== undefined ? { max_retries: limit(p.maxRetries) } : {}),
  };
  const out: Record<string, unknown> = {
    connect_timeout: p.connectTimeoutMs !== undefined ? seconds(p.connectTimeoutMs) : ISTIO_CONNECT_TIMEOUT,
    circuit_breakers: { thresholds: [thresholds] },
  };
  if (p.lbPolicy === "RING_HASH" && p.minimumRingSize) out.ring_hash_lb_config = { minimum_ring_size: { value: p.minimumRingSize } };
  if (p.lbPolicy === "MAGLEV" && p.maglevTableSize) out.maglev_lb_config = { table_size: { value: p.maglevTableSize } };
  if (p.slowStartMs) {
    const slow = { slow_start_config: { slow_start_window: seconds(p.slowStartMs) } };
    if (p.lbPolicy === "LEAST_REQUEST") out.least_request_lb_config = slow;
    else if (!p.lbPolicy || p.lbPolicy === "ROUND_ROBIN") out.round_robin_lb_config = slow;
  }
  if (p.tcpKeepalive) {
    const k = p.tcpKeepalive;
    out.upstream_connection_options = {
      tcp_keepalive: {
        ...(k.probes !== undefined ? { keepalive_probes: { value: k.probes } } : {}),
        ...(k.timeS !== undefined ? { keepalive_time: { value: k.timeS } } : {}),
        ...(k.intervalS !== undefined ? { keepalive_interval: { value: k.intervalS } } : {}),
      },
    };
  }
  const common = {
    ...(p.idleTimeoutMs !== undefined ? { idle_timeout: seconds(p.idleTimeoutMs) } : {}),
    ...(p.maxConnectionDurationMs !== undefined ? { max_connection_duration: seconds(p.maxConnectionDurationMs) } : {}),
    ...(p.maxRequestsPerConnection !== undefined ? { max_requests_per_connection: { value: p.maxRequestsPerConnection } } : {}),
  };
  if (Object.keys(common).length || p.maxConcurrentStreams !== undefined) {
    // Envoy's HTTP upstream options; the protocol follows the downstream's, as for Istio's auto-detected ports.
    out.typed_extension_protocol_options = {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": toAny("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", {
        common_http_protocol_options: common,
        use_downstream_protocol_config: {
          http_protocol_options: {},
          http2_protocol_options: p.maxConcurrentStreams !== undefined ? { max_concurrent_streams: { value: p.maxConcurrentStreams } } : {},
        },
      }),
    };
  }
  if (p.origination && !p.tls) out.transport_socket = originationTls(p.origination);
  return out;
}
