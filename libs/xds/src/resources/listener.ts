import { type AnyMessage, toAny } from "../protos.js";
import { CORS_FILTER } from "./http-features.js";
import { ISTIO_HCM, ISTIO_RDS_SOURCE, ISTIO_ROUTE_TIMEOUT } from "./istio-defaults.js";
import type { TransportSocket } from "./tls.js";

/**
 * A proxyless gRPC client's listener: named `<host>:<port>` (the xds:/// target), an
 * api_listener whose HttpConnectionManager takes its routes from RDS over ADS.
 */
export function proxylessListener(name: string, routeConfigName: string): AnyMessage {
  const hcm = toAny("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
    // Required non-empty by the proto (gRPC ignores it).
    stat_prefix: name,
    rds: { config_source: { ads: {}, resource_api_version: "V3" }, route_config_name: routeConfigName },
    // The fault filter first (a no-op unless a route configures it), the router last.
    http_filters: [
      { name: "envoy.filters.http.fault", typed_config: toAny("envoy.extensions.filters.http.fault.v3.HTTPFault", {}) },
      { name: "envoy.filters.http.router", typed_config: toAny("envoy.extensions.filters.http.router.v3.Router", {}) },
    ],
  });
  return toAny("envoy.config.listener.v3.Listener", { name, api_listener: { api_listener: hcm } });
}

const router = () => ({ name: "envoy.filters.http.router", typed_config: toAny("envoy.extensions.filters.http.router.v3.Router", {}) });
const cors = () => ({ name: CORS_FILTER, typed_config: toAny("envoy.extensions.filters.http.cors.v3.Cors", {}) });
const fault = () => ({ name: "envoy.filters.http.fault", typed_config: toAny("envoy.extensions.filters.http.fault.v3.HTTPFault", {}) });
const hcmFilter = (hcm: Record<string, unknown>) => ({
  name: "envoy.filters.network.http_connection_manager",
  typed_config: toAny("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", hcm),
});
const address = (ip: string, port: number) => ({ socket_address: { address: ip, port_value: port } });

/**
 * A proxyless gRPC server's listener (gRFC A36): the bound address, one filter chain whose
 * routes are non-forwarding, and — when the server's namespace requires mTLS — a
 * DownstreamTlsContext naming the bootstrap's certificate provider.
 */
export function grpcServerListener(name: string, ip: string, port: number, tls?: TransportSocket): AnyMessage {
  const hcm = {
    stat_prefix: name,
    route_config: {
      name: "inbound",
      virtual_hosts: [{ name: "inbound", domains: ["*"], routes: [{ match: { prefix: "" }, non_forwarding_action: {}, decorator: { operation: "inbound" } }] }],
    },
    http_filters: [router()],
  };
  return toAny("envoy.config.listener.v3.Listener", {
    name,
    address: address(ip, port),
    traffic_direction: "INBOUND",
    filter_chains: [{ name: "inbound", filters: [hcmFilter(hcm)], ...(tls ? { transport_socket: tls } : {}) }],
  });
}

/** A sidecar's outbound HTTP listener for one port: `0.0.0.0_<port>`, routes from RDS `<port>`, Istio's HCM defaults. */
export function outboundHttpListener(port: number): AnyMessage {
  return toAny("envoy.config.listener.v3.Listener", {
    name: `0.0.0.0_${port}`,
    address: address("0.0.0.0", port),
    traffic_direction: "OUTBOUND",
    bind_to_port: { value: false },
    filter_chains: [{ filters: [hcmFilter(outboundHcm(port))] }],
  });
}

const outboundHcm = (port: number) => ({
  stat_prefix: `outbound_0.0.0.0_${port}`,
  rds: { config_source: ISTIO_RDS_SOURCE, route_config_name: String(port) },
  // As Istio orders them: CORS before fault injection (a preflight is never faulted), the router last.
  http_filters: [cors(), fault(), router()],
  ...ISTIO_HCM,
});

/** Where traffic to a destination the mesh does not know goes (Istio's outboundTrafficPolicy: ALLOW_ANY, REGISTRY_ONLY). */
export type FallbackCluster = "PassthroughCluster" | "BlackHoleCluster";

/** A tcp_proxy network filter to one cluster or weighted clusters (stat prefix: the first cluster, as Istio names it). */
export function tcpProxyFilter(clusters: Array<{ name: string; weight: number }>): { name: string; typed_config: AnyMessage } {
  const stat_prefix = clusters[0]?.name ?? "tcp";
  const target =
    clusters.length === 1 ? { cluster: clusters[0]?.name } : { weighted_clusters: { clusters: clusters.map((c) => ({ name: c.name, weight: c.weight })) } };
  return { name: "envoy.filters.network.tcp_proxy", typed_config: toAny("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", { stat_prefix, ...target }) };
}

/** Istio's `virtualOutbound` (15001): takes redirected traffic and hands it to the listener of its original port; the rest goes to the fallback. */
export function virtualOutboundListener(fallback: FallbackCluster = "PassthroughCluster"): AnyMessage {
  return toAny("envoy.config.listener.v3.Listener", {
    name: "virtualOutbound",
    address: address("0.0.0.0", 15001),
    traffic_direction: "OUTBOUND",
    use_original_dst: { value: true },
    filter_chains: [
      {
        name: fallback === "PassthroughCluster" ? "PassthroughFilterChain" : "BlackHoleFilterChain",
        filters: [tcpProxyFilter([{ name: fallback, weight: 1 }])],
      },
    ],
  });
}

/** One TCP destination of an outbound port: matched by destination addresses or TLS SNI, or (no match) everything else. */
export interface TcpChain {
  name: string;
  /** Destination IPs (each a /32 or /128). */
  destinations?: string[];
  /** TLS SNI (passthrough: the connection is not terminated). */
  serverNames?: string[];
  clusters: Array<{ name: string; weight: number }>;
}

const cidr = (ip: string) => ({ address_prefix: ip, prefix_len: { value: ip.includes(":") ? 128 : 32 } });

/**
 * A sidecar's outbound listener for a port with TCP (and maybe TLS-by-SNI) destinations:
 * `0.0.0.0_<port>`, a tcp_proxy chain per destination, the HTTP connection manager (RDS
 * `<port>`) as the catch-all when HTTP services share the port, else the fallback cluster
 * as the default chain. SNI matches need the TLS inspector listener filter.
 */
export function outboundTcpListener(port: number, chains: TcpChain[], o: { http: boolean; fallback: FallbackCluster }): AnyMessage {
  const name = `0.0.0.0_${port}`;
  const sni = chains.some((c) => c.serverNames?.length);
  const filterChains: Array<Record<string, unknown>> = chains.map((c) => {
    const match: Record<string, unknown> = {};
    if (c.destinations?.length) match.prefix_ranges = c.destinations.map(cidr);
    if (c.serverNames?.length) {
      match.server_names = c.serverNames;
      match.transport_protocol = "tls";
    }
    return { name: c.name, ...(Object.keys(match).length ? { filter_chain_match: match } : {}), filters: [tcpProxyFilter(c.clusters)] };
  });
  const catchAll = chains.some((c) => !c.destinations?.length && !c.serverNames?.length);
  if (o.http) filterChains.push({ name: `${name}_http`, filters: [hcmFilter(outboundHcm(port))] });
  return toAny("envoy.config.listener.v3.Listener", {
    name,
    address: address("0.0.0.0", port),
    traffic_direction: "OUTBOUND",
    bind_to_port: { value: false },
    ...(sni ? { listener_filters: [{ name: "envoy.filters.listener.tls_inspector", typed_config: toAny(TLS_INSPECTOR, {}) }] } : {}),
    filter_chains: filterChains,
    ...(!o.http && !catchAll ? { default_filter_chain: { name: o.fallback, filters: [tcpProxyFilter([{ name: o.fallback, weight: 1 }])] } } : {}),
  });
}

const TLS_INSPECTOR = "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";

/**
 * Istio's `virtualInbound` (15006) for one workload: a filter chain per port its services
 * expose, routing to `inbound|<port>||`, with mTLS required when its namespace is STRICT.
 */
/** A local rate limit: a token bucket of `maxTokens`, refilled with `tokensPerFill` every `fillIntervalMs`. */
export interface TokenBucket {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
  /** One bucket per downstream connection instead of one per proxy. */
  perConnection?: boolean;
}

/** Envoy's local_ratelimit filter, enabled and enforced for every request (429 once the bucket is empty). */
const localRateLimit = (port: number, b: TokenBucket) => ({
  name: "envoy.filters.http.local_ratelimit",
  typed_config: toAny("envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", {
    stat_prefix: `inbound_${port}_rate_limit`,
    token_bucket: {
      max_tokens: b.maxTokens,
      tokens_per_fill: { value: b.tokensPerFill },
      fill_interval: { seconds: Math.floor(b.fillIntervalMs / 1000), nanos: (b.fillIntervalMs % 1000) * 1_000_000 },
    },
    filter_enabled: { default_value: { numerator: 100, denominator: "HUNDRED" }, runtime_key: "local_rate_limit_enabled" },
    filter_enforced: { default_value: { numerator: 100, denominator: "HUNDRED" }, runtime_key: "local_rate_limit_enforced" },
    local_rate_limit_per_downstream_connection: b.perConnection ?? false,
  }),
});

export function virtualInboundListener(
  ports: Array<{ port: number; cluster: string; tls?: TransportSocket; tcp?: boolean; rateLimit?: TokenBucket }>,
): AnyMessage {
  return toAny("envoy.config.listener.v3.Listener", {
    name: "virtualInbound",
    address: address("0.0.0.0", 15006),
    traffic_direction: "INBOUND",
    listener_filters: [
      { name: "envoy.filters.listener.original_dst", typed_config: toAny("envoy.extensions.filters.listener.original_dst.v3.OriginalDst", {}) },
    ],
    filter_chains: ports.map((p) => ({
      name: `inbound_0.0.0.0_${p.port}`,
      filter_chain_match: { destination_port: { value: p.port } },
      filters: [
        p.tcp
          ? tcpProxyFilter([{ name: p.cluster, weight: 1 }])
          : hcmFilter({
              stat_prefix: `inbound_0.0.0.0_${p.port}`,
              route_config: {
                name: `inbound|${p.port}||`,
                virtual_hosts: [
                  {
                    name: "inbound|http",
                    domains: ["*"],
                    // Istio's inbound route: no timeout, the grpc-timeout header uncapped.
                    routes: [
                      {
                        match: { prefix: "/" },
                        route: { cluster: p.cluster, timeout: ISTIO_ROUTE_TIMEOUT, max_stream_duration: { grpc_timeout_header_max: ISTIO_ROUTE_TIMEOUT } },
                      },
                    ],
                  },
                ],
              },
              http_filters: [...(p.rateLimit ? [localRateLimit(p.port, p.rateLimit)] : []), router()],
              ...ISTIO_HCM,
            }),
      ],
      ...(p.tls ? { transport_socket: p.tls } : {}),
    })),
  });
}
