import { type AnyMessage, toAny } from "../protos.js";

/** A cluster whose endpoints come from EDS over ADS. */
export function edsCluster(name: string, lbPolicy: "ROUND_ROBIN" | "LEAST_REQUEST" | "RING_HASH" = "ROUND_ROBIN"): AnyMessage {
  return toAny("envoy.config.cluster.v3.Cluster", {
    name,
    type: "EDS",
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: "V3" }, service_name: name },
    lb_policy: lbPolicy,
  });
}
