import { isIP } from "node:net";
import type { Violation } from "./violation.js";

/*
 * Rules Envoy enforces in code rather than in its protos' (validate.rules): the ones a
 * control plane most easily breaks. Each names the Envoy documentation (or source) that
 * states it. They run on every message of their type wherever it appears, Any values
 * unpacked; references between resources are collected and checked over the whole set.
 */

type Msg = Record<string, unknown>;

export interface Refs {
  /** RouteConfiguration names HCMs ask RDS for. */
  rds: Array<{ resource: string; path: string; name: string }>;
  /** Secret names transport sockets ask SDS for. */
  sds: Array<{ resource: string; path: string; name: string }>;
}

export interface RuleCtx {
  resource: string;
  out: Violation[];
  refs: Refs;
}

export type Rule = (ctx: RuleCtx, path: string, m: Msg) => void;

const has = (m: Msg, k: string) => Object.hasOwn(m, k) && m[k] !== null && m[k] !== undefined;
const arr = (v: unknown) => (v as Msg[] | undefined) ?? [];
const at = (path: string, k: string) => (path ? `${path}.${k}` : k);
const report = (ctx: RuleCtx, path: string, rule: string, message: string) => ctx.out.push({ resource: ctx.resource, path, rule, message, severity: "error" });
const typeName = (any: unknown) => String((any as Msg | undefined)?.type_url ?? "").replace(/^.*\//, "");

// Cluster.DiscoveryType values (cluster.proto).
const STATIC = 0;
const LOGICAL_DNS = 2;
const EDS = 3;
const ORIGINAL_DST = 4;
const CLUSTER_PROVIDED = 6;
const TYPE_NAMES = ["STATIC", "STRICT_DNS", "LOGICAL_DNS", "EDS", "ORIGINAL_DST"];

const HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER = "envoy.extensions.filters.http.router.v3.Router";
const TERMINAL_NETWORK = new Set([HCM, "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"]);

function lbEndpoints(cla: Msg | undefined): Array<{ path: string; e: Msg }> {
  return arr(cla?.endpoints).flatMap((l, i) => arr(l.lb_endpoints).map((e, j) => ({ path: `load_assignment.endpoints[${i}].lb_endpoints[${j}]`, e })));
}

const cluster: Rule = (ctx, path, c) => {
  const type = has(c, "cluster_type") ? undefined : Number(c.type ?? 0);
  if (type === undefined) return;
  const tname = TYPE_NAMES[type] ?? String(type);
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-eds-cluster-config
  // "Configuration to use for EDS updates for the Cluster": meaningful for type EDS only;
  // an EDS cluster without it has nowhere to fetch its endpoints from.
  if (type === EDS && !has(c, "eds_cluster_config"))
    report(ctx, at(path, "eds_cluster_config"), "envoy.cluster.eds", "an EDS cluster needs eds_cluster_config");
  if (type !== EDS && has(c, "eds_cluster_config"))
    report(ctx, at(path, "eds_cluster_config"), "envoy.cluster.eds", `is only read by EDS clusters; this cluster's type is ${tname} (an unset type is STATIC)`);
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-load-assignment
  // EDS clusters take their endpoints from EDS, not load_assignment; ORIGINAL_DST clusters
  // refuse one ("ORIGINAL_DST clusters must have no load assignment configured").
  if ((type === EDS || type === ORIGINAL_DST) && has(c, "load_assignment"))
    report(ctx, at(path, "load_assignment"), "envoy.cluster.load_assignment", `a ${tname} cluster must not have a load_assignment`);
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#enum-config-cluster-v3-cluster-lbpolicy
  // CLUSTER_PROVIDED "is only valid with ORIGINAL_DST" and ORIGINAL_DST accepts no other policy.
  const lb = Number(c.lb_policy ?? 0);
  if (type === ORIGINAL_DST && lb !== CLUSTER_PROVIDED && !has(c, "load_balancing_policy"))
    report(ctx, at(path, "lb_policy"), "envoy.cluster.lb_policy", "an ORIGINAL_DST cluster needs lb_policy CLUSTER_PROVIDED");
  if (type !== ORIGINAL_DST && lb === CLUSTER_PROVIDED)
    report(ctx, at(path, "lb_policy"), "envoy.cluster.lb_policy", `CLUSTER_PROVIDED is only valid with ORIGINAL_DST clusters (this one is ${tname})`);
  const eps = lbEndpoints(c.load_assignment as Msg | undefined);
  // https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery#logical-dns
  // "a logical DNS cluster ... must have a single locality_lb_endpoint and a single lb_endpoint".
  if (type === LOGICAL_DNS && eps.length !== 1)
    report(ctx, at(path, "load_assignment"), "envoy.cluster.logical_dns", `a LOGICAL_DNS cluster needs exactly one endpoint (got ${eps.length})`);
  // https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery#static
  // "Static is the simplest service discovery type. The configuration explicitly specifies
  // the resolved network name (IP address/port ...) of each upstream host."
  if (type === STATIC) {
    for (const { path: p, e } of eps) {
      const sa = ((e.endpoint as Msg | undefined)?.address as Msg | undefined)?.socket_address as Msg | undefined;
      if (sa && !isIP(String(sa.address ?? "")))
        report(
          ctx,
          at(path, `${p}.endpoint.address.socket_address.address`),
          "envoy.cluster.static_ip",
          `a STATIC cluster's endpoint must be an IP address (got ${JSON.stringify(sa.address)})`,
        );
    }
  }
};

const matchKey = (m: unknown) =>
  JSON.stringify(m ?? {}, (_k, v) =>
    Array.isArray(v) ? [...v].map((x) => JSON.stringify(x)).sort() : v && typeof v === "object" && typeof v.toJSON === "function" ? v.toJSON() : v,
  );

const listener: Rule = (ctx, path, l) => {
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener.proto#envoy-v3-api-field-config-listener-v3-listener-address
  // A listener that is not an API listener binds (or is handed) an address; Envoy refuses one without.
  if (!has(l, "api_listener") && !has(l, "address") && !has(l, "internal_listener"))
    report(ctx, at(path, "address"), "envoy.listener.address", "a listener needs an address (unless it is an api_listener)");
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
  // "multiple filter chains with the same matching rules are defined" is a listener Envoy refuses.
  const seen = new Map<string, number>();
  arr(l.filter_chains).forEach((fc, i) => {
    const k = matchKey(fc.filter_chain_match);
    const prev = seen.get(k);
    if (prev !== undefined)
      report(
        ctx,
        at(path, `filter_chains[${i}].filter_chain_match`),
        "envoy.listener.unique_match",
        `the same match as filter_chains[${prev}]: Envoy refuses filter chains with equal matching rules`,
      );
    else seen.set(k, i);
  });
};

/** A filter list whose terminal filter must come last, and only there. */
function terminalLast(ctx: RuleCtx, path: string, field: string, filters: Msg[], terminal: (f: Msg) => boolean, kind: string): void {
  filters.forEach((f, i) => {
    const t = terminal(f);
    const last = i === filters.length - 1;
    if (t !== last)
      report(
        ctx,
        at(path, `${field}[${i}]`),
        `envoy.${kind}.terminal_last`,
        t ? `terminal filter ${f.name} must be the last ${kind} filter` : `the last ${kind} filter must be terminal (got ${f.name})`,
      );
  });
}

const filterChain: Rule = (ctx, path, fc) => {
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#envoy-v3-api-field-config-listener-v3-filterchain-filters
  // A terminal network filter (HCM, tcp_proxy) must be the last and the last must be terminal
  // (Envoy: "terminal filter named ... must be the last filter in a network filter chain").
  terminalLast(ctx, path, "filters", arr(fc.filters), (f) => TERMINAL_NETWORK.has(typeName(f.typed_config)), "network");
};

const hcm: Rule = (ctx, path, h) => {
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#envoy-v3-api-field-extensions-filters-network-http-connection-manager-v3-httpconnectionmanager-http-filters
  // "the last filter must be the router filter" (a terminal filter), and the router nowhere else.
  const filters = arr(h.http_filters);
  if (!filters.length) report(ctx, at(path, "http_filters"), "envoy.http.terminal_last", "an HTTP connection manager needs its filters, the router last");
  terminalLast(ctx, path, "http_filters", filters, (f) => typeName(f.typed_config) === ROUTER, "http");
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#envoy-v3-api-field-extensions-filters-network-http-connection-manager-v3-rds-route-config-name
  // "The name of the route configuration. This name will be passed to the RDS API": it must be served.
  const rds = h.rds as Msg | undefined;
  if (rds) ctx.refs.rds.push({ resource: ctx.resource, path: at(path, "rds.route_config_name"), name: String(rds.route_config_name ?? "") });
};

const routeConfiguration: Rule = (ctx, path, rc) => {
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-virtualhost-domains
  // "Only unique values for domains are permitted" across a route configuration's virtual hosts.
  const seen = new Map<string, string>();
  arr(rc.virtual_hosts).forEach((vh, i) => {
    for (const d of (vh.domains as string[] | undefined) ?? []) {
      const k = d.toLowerCase();
      const prev = seen.get(k);
      if (prev !== undefined)
        report(
          ctx,
          at(path, `virtual_hosts[${i}].domains`),
          "envoy.route.unique_domain",
          `domain ${JSON.stringify(d)} is already served by virtual host ${prev}`,
        );
      else seen.set(k, String(vh.name));
    }
  });
};

const weightedCluster: Rule = (ctx, path, wc) => {
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-weightedcluster
  // Envoy: "Sum of weights in the weighted_cluster must be greater than 0."
  const total = arr(wc.clusters).reduce((n, c) => n + Number((c.weight as Msg | undefined)?.value ?? 0), 0);
  if (total <= 0) report(ctx, at(path, "clusters"), "envoy.route.weights", "the weights of a weighted_clusters must sum to more than 0");
  if (total > 0xffffffff) report(ctx, at(path, "clusters"), "envoy.route.weights", `the weights sum to ${total}, above 2^32-1`);
};

const sdsSecretConfig: Rule = (ctx, path, s) => {
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/transport_sockets/tls/v3/secret.proto#extensions-transport-sockets-tls-v3-sdssecretconfig
  // A secret fetched over SDS must be served, or the listener/cluster stays warming.
  if (has(s, "sds_config")) ctx.refs.sds.push({ resource: ctx.resource, path: at(path, "name"), name: String(s.name ?? "") });
};

const downstreamTls: Rule = (ctx, path, d) => {
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/transport_sockets/tls/v3/tls.proto#extensions-transport-sockets-tls-v3-downstreamtlscontext
  // A server context with no certificate: Envoy refuses it ("No TLS certificates found for server context").
  const c = (d.common_tls_context as Msg | undefined) ?? {};
  const any = arr(c.tls_certificates).length || arr(c.tls_certificate_sds_secret_configs).length || has(c, "tls_certificate_provider_instance");
  if (!any) report(ctx, at(path, "common_tls_context"), "envoy.tls.server_certificate", "a DownstreamTlsContext needs a certificate");
};

/** Rules by message type, run on every message of that type. */
export const ENVOY_RULES: ReadonlyMap<string, Rule> = new Map([
  [".envoy.config.cluster.v3.Cluster", cluster],
  [".envoy.config.listener.v3.Listener", listener],
  [".envoy.config.listener.v3.FilterChain", filterChain],
  [`.${HCM}`, hcm],
  [".envoy.config.route.v3.RouteConfiguration", routeConfiguration],
  [".envoy.config.route.v3.WeightedCluster", weightedCluster],
  [".envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig", sdsSecretConfig],
  [".envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", downstreamTls],
]);

/** References between resources, over the whole set a proxy is given. */
export function checkRefs(refs: Refs, served: { routes: Set<string>; secrets: Set<string> }, out: Violation[]): void {
  for (const r of refs.rds)
    if (!served.routes.has(r.name))
      out.push({
        ...r,
        severity: "error",
        rule: "envoy.rds.served",
        message: `route configuration ${JSON.stringify(r.name)} is asked for over RDS but not served`,
      });
  for (const r of refs.sds)
    if (!served.secrets.has(r.name))
      out.push({ ...r, severity: "error", rule: "envoy.sds.served", message: `secret ${JSON.stringify(r.name)} is asked for over SDS but not served` });
}
