import { type AnyMessage, toAny } from "../protos.js";

export interface LocalityEndpoints {
  locality: { region: string; zone: string; subzone: string };
  endpoints: Array<{ address: string; port: number; healthy: boolean }>;
}

/** ClusterLoadAssignment: endpoints grouped by locality, each locality weighted by its size. */
export function clusterLoadAssignment(clusterName: string, localities: LocalityEndpoints[]): AnyMessage {
  return toAny("envoy.config.endpoint.v3.ClusterLoadAssignment", {
    cluster_name: clusterName,
    endpoints: localities
      .filter((l) => l.endpoints.length)
      .map((l) => ({
        locality: { region: l.locality.region, zone: l.locality.zone, sub_zone: l.locality.subzone },
        load_balancing_weight: { value: l.endpoints.length },
        lb_endpoints: l.endpoints.map((e) => ({
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: e.healthy ? "HEALTHY" : "UNHEALTHY",
        })),
      })),
  });
}
