import { type AnyMessage, toAny } from "../protos.js";

/**
 * A proxyless gRPC client's listener: named `<host>:<port>` (the xds:/// target), an
 * api_listener whose HttpConnectionManager takes its routes from RDS over ADS.
 */
export function proxylessListener(name: string, routeConfigName: string): AnyMessage {
  const hcm = toAny("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
    rds: { config_source: { ads: {}, resource_api_version: "V3" }, route_config_name: routeConfigName },
    // The fault filter first (a no-op unless a route configures it), the router last.
    http_filters: [
      { name: "envoy.filters.http.fault", typed_config: toAny("envoy.extensions.filters.http.fault.v3.HTTPFault", {}) },
      { name: "envoy.filters.http.router", typed_config: toAny("envoy.extensions.filters.http.router.v3.Router", {}) },
    ],
  });
  return toAny("envoy.config.listener.v3.Listener", { name, api_listener: { api_listener: hcm } });
}
