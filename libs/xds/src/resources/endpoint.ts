import { type AnyMessage, toAny } from "../protos.js";

export interface LocalityEndpoints {
  locality: { region: string; zone: string; subzone: string };
  endpoints: Array<{
    address: string;
    port: number;
    healthy: boolean /** Several endpoints behind one address (an east-west gateway) weigh as many. */;
    weight?: number;
  }>;
}

/** ClusterLoadAssignment: endpoints grouped by locality, each locality weighted by its size. */
export function clusterLoadAssignment(clusterName: string, localities: LocalityEndpoints[]): AnyMessage {
  return toAny("envoy.config.endpoint.v3.ClusterLoadAssignment", {
    cluster_name: clusterName,
    endpoints: localities
      .filter((l) => l.endpoints.length)
      .map((l) => ({
        locality: { region: l.locality.region, zone: l.locality.zone, sub_zone: l.locality.subzone },
        load_balancing_weight: { value: l.endpoints.reduce((n, e) => n + (e.weight ?? 1), 0) },
        lb_endpoints: l.endpoints.map((e) => ({
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: e.healthy ? "HEALTHY" : "UNHEALTHY",
          ...(e.weight && e.weight !== 1 ? { load_balancing_weight: { value: e.weight } } : {}),
        })),
      })),
  });
}
