import { type AnyMessage, toAny } from "../protos.js";

export interface ClusterPolicy {
  lbPolicy?: "ROUND_ROBIN" | "LEAST_REQUEST" | "RING_HASH";
  outlierDetection?: { consecutive5xx?: number; intervalMs?: number; baseEjectionMs?: number; maxEjectionPercent?: number };
  maxRequests?: number;
}

const duration = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });

/** A cluster whose endpoints come from EDS over ADS, with its load-balancing and outlier policy. */
export function edsCluster(name: string, policy: ClusterPolicy = {}): AnyMessage {
  const c: Record<string, unknown> = {
    name,
    type: "EDS",
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: "V3" }, service_name: name },
    lb_policy: policy.lbPolicy ?? "ROUND_ROBIN",
  };
  if (policy.outlierDetection) {
    const o = policy.outlierDetection;
    c.outlier_detection = {
      consecutive_5xx: { value: o.consecutive5xx ?? 5 },
      interval: duration(o.intervalMs ?? 10_000),
      base_ejection_time: duration(o.baseEjectionMs ?? 30_000),
      max_ejection_percent: { value: o.maxEjectionPercent ?? 10 },
      enforcing_consecutive_5xx: { value: 100 },
    };
  }
  if (policy.maxRequests) c.circuit_breakers = { thresholds: [{ max_requests: { value: policy.maxRequests } }] };
  return toAny("envoy.config.cluster.v3.Cluster", c);
}
