import { type AnyMessage, toAny } from "../protos.js";

export interface WeightedCluster {
  name: string;
  weight: number;
}

/** A route configuration with one virtual host sending everything to one cluster (or weighted clusters). */
export function routeConfiguration(name: string, domains: string[], target: string | WeightedCluster[]): AnyMessage {
  const route =
    typeof target === "string" ? { cluster: target } : { weighted_clusters: { clusters: target.map((c) => ({ name: c.name, weight: { value: c.weight } })) } };
  return toAny("envoy.config.route.v3.RouteConfiguration", {
    name,
    virtual_hosts: [{ name, domains, routes: [{ match: { prefix: "" }, route }] }],
  });
}
