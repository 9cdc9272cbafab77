import { type AnyMessage, toAny } from "../protos.js";
import { ISTIO_CIRCUIT_BREAKER, ISTIO_CONNECT_TIMEOUT } from "./istio-defaults.js";
import type { TransportSocket } from "./tls.js";

export interface ClusterPolicy {
  lbPolicy?: "ROUND_ROBIN" | "LEAST_REQUEST" | "RING_HASH";
  outlierDetection?: { consecutive5xx?: number; intervalMs?: number; baseEjectionMs?: number; maxEjectionPercent?: number };
  maxRequests?: number;
  /** mTLS to the endpoints (Istio's ISTIO_MUTUAL). */
  tls?: TransportSocket;
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
  if (flavour === "envoy") {
    c.connect_timeout = ISTIO_CONNECT_TIMEOUT;
    c.circuit_breakers = { thresholds: [{ ...ISTIO_CIRCUIT_BREAKER, ...(policy.maxRequests ? { max_requests: { value: policy.maxRequests } } : {}) }] };
  }
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
