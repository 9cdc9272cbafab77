export const TYPE = {
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  secret: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
} as const;
export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];

/** Istio's cluster names, so its tools read ours: `outbound|<port>|<subset>|<host>`. */
export function outboundCluster(port: number, host: string, subset = ""): string {
  return `outbound|${port}|${subset}|${host}`;
}

/** Istio's inbound cluster names: `inbound|<port>||`. */
export function inboundCluster(port: number): string {
  return `inbound|${port}||`;
}

/** The SNI a sidecar sends to an mTLS upstream, as Istio builds it (east-west gateways route on it). */
export function outboundSni(port: number, host: string, subset = ""): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

/** Istio's resource name template for a proxyless gRPC server's listener (`server_listener_resource_name_template`). */
export const GRPC_SERVER_LISTENER_TEMPLATE = "xds.istio.io/grpc/lds/inbound/%s";
export function grpcServerListenerName(address: string, port: number): string {
  return GRPC_SERVER_LISTENER_TEMPLATE.replace("%s", address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);
}
