import { describe, expect, it } from "vitest";
import {
  clusterLoadAssignment,
  compileAllRules,
  downstreamMtls,
  edsCluster,
  fileCertificateSecret,
  formatViolation,
  inboundStaticCluster,
  outboundHttpListener,
  passthroughCluster,
  proxylessListener,
  resourcesOfConfigDump,
  rootCaSecret,
  routeConfiguration,
  SDS_CERTIFICATE,
  SDS_ROOT,
  TYPE,
  toAny,
  upstreamMtls,
  type Violation,
  validateXds,
  virtualHostsRouteConfiguration,
  virtualInboundListener,
  virtualOutboundListener,
} from "../src/index.js";
import { fromAny, xdsRoot } from "../src/protos.js";

const CLUSTER = "envoy.config.cluster.v3.Cluster";
const LISTENER = "envoy.config.listener.v3.Listener";
const ROUTE = "envoy.config.route.v3.RouteConfiguration";
const HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const router = { name: "envoy.filters.http.router", typed_config: toAny("envoy.extensions.filters.http.router.v3.Router", {}) };
const hcmFilter = (hcm: Record<string, unknown>) => ({ name: "envoy.filters.network.http_connection_manager", typed_config: toAny(HCM, hcm) });
const rds = (name: string) => ({ config_source: { ads: {}, resource_api_version: "V3" }, route_config_name: name });

/** Encoded without protobufjs's own verify, which would refuse what the validator is to catch. */
const unchecked = (type: string, o: Record<string, unknown>) => {
  const t = xdsRoot().lookupType(type);
  return { type_url: `type.googleapis.com/${type}`, value: Buffer.from(t.encode(t.fromObject(o)).finish()) };
};
const errors = (vs: Violation[]) => vs.filter((v) => v.severity === "error").map((v) => [v.resource, v.path, v.rule]);

describe("Envoy proto-constraint validator", () => {
  it("understands every (validate.rules) option of every xDS message it loads", () => {
    expect(compileAllRules()).toBeGreaterThan(400);
  });

  it("passes the resources the builders make for a sidecar and a proxyless client", () => {
    const tls = upstreamMtls({ flavour: "envoy", spiffeIds: ["spiffe://cluster.local/ns/a/sa/b"], trustDomain: "cluster.local", sni: "outbound_.80_._.a" });
    const resources = [
      edsCluster("outbound|80||a", {
        lbPolicy: "RING_HASH",
        outlierDetection: { consecutive5xx: 3, intervalMs: 1500 },
        maxRequests: 10,
        tls,
      }),
      clusterLoadAssignment("outbound|80||a", [
        { locality: { region: "r", zone: "z", subzone: "" }, endpoints: [{ address: "10.0.0.1", port: 80, healthy: true, weight: 2 }] },
      ]),
      inboundStaticCluster("inbound|80||", 80),
      passthroughCluster(),
      outboundHttpListener(80),
      virtualOutboundListener(),
      virtualInboundListener([
        { port: 80, cluster: "inbound|80||", tls: downstreamMtls({ flavour: "envoy" }) },
        { port: 81, cluster: "inbound|81||" },
      ]),
      virtualHostsRouteConfiguration("80", [
        {
          name: "a:80",
          domains: ["a", "a:80"],
          routes: [
            {
              match: { prefix: "/", headers: [{ name: "x-user", exact: "j" }] },
              action: {
                clusters: [
                  { name: "outbound|80|v1|a", weight: 90 },
                  { name: "outbound|80|v2|a", weight: 10 },
                ],
                timeoutMs: 1500,
                retry: { retryOn: "5xx", attempts: 2, perTryTimeoutMs: 100 },
                fault: { abort: { percent: 5, httpStatus: 503 }, delay: { percent: 1, fixedDelayMs: 20 } },
              },
            },
          ],
        },
      ]),
      proxylessListener("a:80", "a:80"),
      routeConfiguration("a:80", ["a:80"], [{ match: { path: "/x" }, action: { clusters: [{ name: "outbound|80||a", weight: 100 }] } }]),
      rootCaSecret(SDS_ROOT, ["-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"]),
      fileCertificateSecret(SDS_CERTIFICATE, "/var/run/certs"),
    ];
    const found = validateXds(resources);
    expect(found.map(formatViolation)).toEqual([]);
  });

  // A resource broken one way, the resource and field path named, the rule that caught it.
  it.each<[string, () => ReturnType<typeof toAny>, Array<[string, string, string]>]>([
    [
      "a cluster with no type (so STATIC) but an EDS config",
      () => toAny(CLUSTER, { name: "c", eds_cluster_config: { eds_config: { ads: {} } } }),
      [["Cluster c", "eds_cluster_config", "envoy.cluster.eds"]],
    ],
    [
      "a negative timeout",
      () => toAny(CLUSTER, { name: "c", type: "STATIC", connect_timeout: { seconds: -1 } }),
      [
        ["Cluster c", "connect_timeout", "envoy.duration"],
        ["Cluster c", "connect_timeout", "duration.gt"],
      ],
    ],
    [
      "a negative route timeout deep in a route configuration",
      () =>
        toAny(ROUTE, {
          name: "r",
          virtual_hosts: [{ name: "v", domains: ["*"], routes: [{ match: { prefix: "" }, route: { cluster: "c", timeout: { nanos: -5 } } }] }],
        }),
      [["RouteConfiguration r", "virtual_hosts[0].routes[0].route.timeout", "envoy.duration"]],
    ],
    ["an empty name (string.min_len)", () => toAny(CLUSTER, { name: "", type: "STATIC" }), [["Cluster ", "name", "string.min_len"]]],
    ["an undefined enum value (enum.defined_only)", () => unchecked(CLUSTER, { name: "c", type: 42 }), [["Cluster c", "type", "enum.defined_only"]]],
    [
      "a route with no match kind (oneof required)",
      () => toAny(ROUTE, { name: "r", virtual_hosts: [{ name: "v", domains: ["*"], routes: [{ match: {}, route: { cluster: "c" } }] }] }),
      [["RouteConfiguration r", "virtual_hosts[0].routes[0].match.path_specifier", "oneof.required"]],
    ],
    [
      "a route with no action (oneof required) and a virtual host without domains (repeated.min_items)",
      () => toAny(ROUTE, { name: "r", virtual_hosts: [{ name: "v", domains: [], routes: [{ match: { prefix: "" } }] }] }),
      [
        ["RouteConfiguration r", "virtual_hosts[0].domains", "repeated.min_items"],
        ["RouteConfiguration r", "virtual_hosts[0].routes[0].action", "oneof.required"],
      ],
    ],
    [
      "a header name with a newline (well-known regex)",
      () =>
        toAny(ROUTE, {
          name: "r",
          virtual_hosts: [
            { name: "v", domains: ["*"], routes: [{ match: { prefix: "", headers: [{ name: "x\nfoo", present_match: true }] }, route: { cluster: "c" } }] },
          ],
        }),
      [["RouteConfiguration r", "virtual_hosts[0].routes[0].match.headers[0].name", "string.well_known_regex"]],
    ],
    [
      "a wrapped number out of range (UInt32Value) inside an Any",
      () =>
        toAny(LISTENER, {
          name: "l",
          address: { socket_address: { address: "0.0.0.0", port_value: 1 } },
          filter_chains: [
            {
              filters: [
                hcmFilter({ stat_prefix: "s", rds: rds("r"), http2_protocol_options: { max_concurrent_streams: { value: 0 } }, http_filters: [router] }),
              ],
            },
          ],
        }),
      [
        ["Listener l", "filter_chains[0].filters[0].typed_config<HttpConnectionManager>.http2_protocol_options.max_concurrent_streams.value", "uint32.gte"],
        ["Listener l", "filter_chains[0].filters[0].typed_config<HttpConnectionManager>.rds.route_config_name", "envoy.rds.served"],
      ],
    ],
    [
      "an HTTP connection manager without stat_prefix and the router not last",
      () =>
        toAny(LISTENER, {
          name: "l",
          api_listener: {
            api_listener: toAny(HCM, {
              route_config: { name: "x" },
              http_filters: [router, { name: "fault", typed_config: toAny("envoy.extensions.filters.http.fault.v3.HTTPFault", {}) }],
            }),
          },
        }),
      [
        ["Listener l", "api_listener.api_listener<HttpConnectionManager>.http_filters[0]", "envoy.http.terminal_last"],
        ["Listener l", "api_listener.api_listener<HttpConnectionManager>.http_filters[1]", "envoy.http.terminal_last"],
        ["Listener l", "api_listener.api_listener<HttpConnectionManager>.stat_prefix", "string.min_len"],
      ],
    ],
    [
      "an Any of a type no xDS proto defines",
      () => toAny(LISTENER, { name: "l", api_listener: { api_listener: { type_url: "type.googleapis.com/no.such.Type", value: Buffer.alloc(0) } } }),
      [["Listener l", "api_listener.api_listener", "any.type"]],
    ],
    [
      "two filter chains with the same match, a terminal filter not last",
      () =>
        toAny(LISTENER, {
          name: "l",
          address: { socket_address: { address: "0.0.0.0", port_value: 1 } },
          filter_chains: [
            {
              filter_chain_match: { destination_port: { value: 80 }, server_names: ["a", "b"] },
              filters: [hcmFilter({ stat_prefix: "s", route_config: {}, http_filters: [router] })],
            },
            {
              filter_chain_match: { server_names: ["b", "a"], destination_port: { value: 80 } },
              filters: [
                hcmFilter({ stat_prefix: "s", route_config: {}, http_filters: [router] }),
                { name: "tcp", typed_config: toAny("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", { stat_prefix: "t", cluster: "c" }) },
              ],
            },
          ],
        }),
      [
        ["Listener l", "filter_chains[1].filter_chain_match", "envoy.listener.unique_match"],
        ["Listener l", "filter_chains[1].filters[0]", "envoy.network.terminal_last"],
      ],
    ],
    ["a listener with no address", () => toAny(LISTENER, { name: "l" }), [["Listener l", "address", "envoy.listener.address"]]],
    [
      "ORIGINAL_DST with round robin, an EDS cluster with a load assignment, a STATIC cluster with a host name",
      () =>
        toAny(CLUSTER, {
          name: "c",
          type: "STATIC",
          lb_policy: "CLUSTER_PROVIDED",
          load_assignment: {
            cluster_name: "c",
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "db.example.com", port_value: 5 } } } }] }],
          },
        }),
      [
        ["Cluster c", "lb_policy", "envoy.cluster.lb_policy"],
        ["Cluster c", "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address", "envoy.cluster.static_ip"],
      ],
    ],
    [
      "weights summing to 0, duplicate domains",
      () =>
        toAny(ROUTE, {
          name: "r",
          virtual_hosts: [
            {
              name: "a",
              domains: ["a"],
              routes: [{ match: { prefix: "" }, route: { weighted_clusters: { clusters: [{ name: "x", weight: { value: 0 } }] } } }],
            },
            { name: "b", domains: ["A", "b"], routes: [] },
          ],
        }),
      [
        ["RouteConfiguration r", "virtual_hosts[0].routes[0].route.weighted_clusters.clusters", "envoy.route.weights"],
        ["RouteConfiguration r", "virtual_hosts[1].domains", "envoy.route.unique_domain"],
      ],
    ],
    [
      "a server TLS context with no certificate, SDS secrets nobody serves",
      () =>
        virtualInboundListener([
          {
            port: 80,
            cluster: "inbound|80||",
            tls: {
              name: "envoy.transport_sockets.tls",
              typed_config: toAny("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", {
                common_tls_context: { validation_context_sds_secret_config: { name: "ROOTCA", sds_config: { ads: {} } } },
              }),
            },
          },
        ]),
      [
        ["Listener virtualInbound", "filter_chains[0].transport_socket.typed_config<DownstreamTlsContext>.common_tls_context", "envoy.tls.server_certificate"],
        [
          "Listener virtualInbound",
          "filter_chains[0].transport_socket.typed_config<DownstreamTlsContext>.common_tls_context.validation_context_sds_secret_config.name",
          "envoy.sds.served",
        ],
      ],
    ],
  ])("catches %s", (_what, make, want) => {
    expect(errors(validateXds([make()])).sort()).toEqual(want.sort());
  });

  it("warns, without failing, on fields Envoy deprecates", () => {
    const grpc = upstreamMtls({ flavour: "grpc", spiffeIds: [], trustDomain: "cluster.local" });
    const found = validateXds([edsCluster("c", { tls: grpc })]);
    expect(found.map((v) => [v.severity, v.path, v.rule])).toEqual([
      ["warning", "transport_socket.typed_config<UpstreamTlsContext>.common_tls_context.validation_context.match_subject_alt_names", "deprecated"],
    ]);
  });

  it("skips references for a partial set when asked", () => {
    expect(validateXds([outboundHttpListener(80)], { references: false })).toEqual([]);
    expect(errors(validateXds([outboundHttpListener(80)]))).toEqual([
      ["Listener 0.0.0.0_80", "filter_chains[0].filters[0].typed_config<HttpConnectionManager>.rds.route_config_name", "envoy.rds.served"],
    ]);
  });

  it("reads a config dump (nested Any shown with @type) back into the same resources", () => {
    const listener = outboundHttpListener(80);
    const cluster = toAny(CLUSTER, { name: "c", connect_timeout: { seconds: -1 }, type: "STATIC" });
    const readable = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(readable);
      if (v && typeof v === "object" && !Buffer.isBuffer(v)) {
        const o = v as Record<string, unknown>;
        if (typeof o.type_url === "string" && Buffer.isBuffer(o.value))
          return { "@type": o.type_url, ...(readable(fromAny({ type_url: o.type_url, value: o.value })) as object) };
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, readable(x)]));
      }
      return v;
    };
    const dump = {
      configs: [
        {
          "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
          dynamic_listeners: [{ name: "0.0.0.0_80", active_state: { listener: readable(fromAny(listener)) } }],
        },
        { "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", dynamic_active_clusters: [{ cluster: readable(fromAny(cluster)) }] },
      ],
    };
    const back = resourcesOfConfigDump(dump);
    expect(back.map((r) => r.type_url)).toEqual([TYPE.listener, TYPE.cluster]);
    expect(back[0]?.value.equals(listener.value)).toBe(true);
    expect(errors(validateXds(back, { references: false }))).toEqual([
      ["Cluster c", "connect_timeout", "envoy.duration"],
      ["Cluster c", "connect_timeout", "duration.gt"],
    ]);
  });
});
