export const TYPE = {
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
} as const;
export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];

/** Istio's cluster names, so its tools read ours: `outbound|<port>|<subset>|<host>`. */
export function outboundCluster(port: number, host: string, subset = ""): string {
  return `outbound|${port}|${subset}|${host}`;
}
