/**
 * What each view of the console shows, derived from the read model's entities. Pure and free of
 * run-time imports: the browser loads this module as it is, and the tests call it directly.
 */
import type { Counts, EndpointView, Entity, SyncWord } from "./wire.js";

export type ClusterEntity = Extract<Entity, { kind: "cluster" }>;
export type ServiceEntity = Extract<Entity, { kind: "service" }>;
export type ProxyEntity = Extract<Entity, { kind: "proxy" }>;
export type ConfigEntity = Extract<Entity, { kind: "config" }>;
export type GatewayEntity = Extract<Entity, { kind: "gateway" }>;

const byName =
  <T>(f: (x: T) => string) =>
  (a: T, b: T) =>
    f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0;

export function sumCounts(cs: Counts[]): Counts {
  return cs.reduce((a, c) => ({ ready: a.ready + c.ready, notReady: a.notReady + c.notReady, terminating: a.terminating + c.terminating }), {
    ready: 0,
    notReady: 0,
    terminating: 0,
  });
}

export interface TopologyCluster {
  cluster: ClusterEntity | undefined;
  id: string;
  services: ServiceEntity[];
}

export interface TopologyNetwork {
  network: string;
  gateways: GatewayEntity[];
  clusters: TopologyCluster[];
}

export interface TopologyRegion {
  region: string;
  networks: TopologyNetwork[];
}

/** Clusters grouped by region and network, each with its services; services of clusters without a status still show. */
export function topology(entities: Iterable<Entity>): TopologyRegion[] {
  const clusters = new Map<string, TopologyCluster>();
  const gateways: GatewayEntity[] = [];
  const at = (id: string) => {
    const c = clusters.get(id) ?? { cluster: undefined, id, services: [] };
    clusters.set(id, c);
    return c;
  };
  for (const e of entities) {
    if (e.kind === "cluster") at(e.cluster).cluster = e;
    else if (e.kind === "service") at(e.cluster).services.push(e);
    else if (e.kind === "gateway") gateways.push(e);
  }
  const regions = new Map<string, Map<string, TopologyCluster[]>>();
  for (const c of clusters.values()) {
    c.services.sort(byName((s) => `${s.namespace}/${s.name}`));
    const region = c.cluster?.region ?? "";
    const network = c.cluster?.network ?? c.services[0]?.endpoints[0]?.network ?? "";
    const nets = regions.get(region) ?? new Map<string, TopologyCluster[]>();
    regions.set(region, nets);
    nets.set(network, [...(nets.get(network) ?? []), c]);
  }
  for (const g of gateways) {
    const known = [...regions.values()].some((n) => n.has(g.network));
    if (!known) regions.set("", (regions.get("") ?? new Map()).set(g.network, []));
  }
  return [...regions.entries()].sort(byName(([r]) => r)).map(([region, nets]) => ({
    region,
    networks: [...nets.entries()].sort(byName(([n]) => n)).map(([network, cs]) => ({
      network,
      gateways: gateways.filter((g) => g.network === network),
      clusters: cs.sort(byName((c) => c.id)),
    })),
  }));
}

/** Istio's short host names: `name` is in the resource's namespace, `name.ns` is `name.ns.svc.cluster.local`. */
export function resolveHost(host: string, namespace: string): string {
  const dots = host.split(".").length - 1;
  if (dots === 0) return `${host}.${namespace}.svc.cluster.local`;
  if (dots === 1) return `${host}.svc.cluster.local`;
  return host;
}

export interface Placement {
  cluster: string;
  network: string;
  counts: Counts;
}

export interface TrafficSubset {
  name: string;
  labels: Record<string, string>;
  trafficPolicy?: unknown;
  placement: Placement[];
}

export interface TrafficRoute {
  name: string;
  match: string;
  /** Fault injection, retries, timeout: the route's policies as written. */
  policies: Record<string, unknown>;
  destinations: Array<{ host: string; subset: string; weight: number; port?: number }>;
}

export interface TrafficGraph {
  host: string;
  placement: Placement[];
  routes: TrafficRoute[];
  subsets: TrafficSubset[];
  trafficPolicy?: unknown;
  virtualServices: ConfigEntity[];
  destinationRules: ConfigEntity[];
}

const rec = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function placementOf(endpoints: Array<EndpointView & { serviceCluster: string }>): Placement[] {
  const by = new Map<string, { network: string; eps: EndpointView[] }>();
  for (const e of endpoints) {
    const c = e.cluster || e.serviceCluster;
    const p = by.get(c) ?? { network: e.network, eps: [] };
    p.eps.push(e);
    by.set(c, p);
  }
  return [...by.entries()].sort(byName(([c]) => c)).map(([cluster, p]) => ({ cluster, network: p.network, counts: endpointCounts(p.eps) }));
}

/** Endpoints by state: terminating first (a terminating endpoint may still report ready), then ready, else not ready. */
export function endpointCounts(endpoints: Array<{ ready: boolean; terminating: boolean }>): Counts {
  const c: Counts = { ready: 0, notReady: 0, terminating: 0 };
  for (const e of endpoints) {
    if (e.terminating) c.terminating++;
    else if (e.ready) c.ready++;
    else c.notReady++;
  }
  return c;
}

function matchText(m: unknown): string {
  const parts = arr(m).map((x) => {
    const o = rec(x);
    return Object.entries(o)
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
      .join(", ");
  });
  return parts.length ? parts.join(" or ") : "any request";
}

/** A service's routes (VirtualService), subsets and policies (DestinationRule), and where each subset's endpoints run. */
export function trafficGraph(entities: Iterable<Entity>, host: string): TrafficGraph {
  const all = [...entities];
  const endpoints = all.flatMap((e) => (e.kind === "service" && e.hostname === host ? e.endpoints.map((x) => ({ ...x, serviceCluster: e.cluster })) : []));
  const configs = all.filter((e): e is ConfigEntity => e.kind === "config");
  const virtualServices = configs.filter(
    (c) => c.resourceKind === "VirtualService" && arr(c.spec.hosts).some((h) => typeof h === "string" && resolveHost(h, c.namespace) === host),
  );
  const destinationRules = configs.filter(
    (c) => c.resourceKind === "DestinationRule" && typeof c.spec.host === "string" && resolveHost(c.spec.host, c.namespace) === host,
  );
  const routes: TrafficRoute[] = virtualServices.flatMap((vs) =>
    arr(vs.spec.http).map((r, i) => {
      const o = rec(r);
      const dests = arr(o.route);
      const { name, match, route, ...policies } = o;
      return {
        name: typeof name === "string" ? name : `${vs.name} http[${i}]`,
        match: matchText(match),
        policies,
        destinations: dests.map((d) => {
          const dd = rec(d);
          const dst = rec(dd.destination);
          const out: TrafficRoute["destinations"][number] = {
            host: typeof dst.host === "string" ? resolveHost(dst.host, vs.namespace) : host,
            subset: typeof dst.subset === "string" ? dst.subset : "",
            weight: typeof dd.weight === "number" ? dd.weight : dests.length === 1 ? 100 : 0,
          };
          const port = rec(dst.port).number;
          if (typeof port === "number") out.port = port;
          return out;
        }),
      };
    }),
  );
  const subsets: TrafficSubset[] = destinationRules.flatMap((dr) =>
    arr(dr.spec.subsets).map((s) => {
      const o = rec(s);
      const labels = rec(o.labels) as Record<string, string>;
      const sub: TrafficSubset = {
        name: typeof o.name === "string" ? o.name : "",
        labels,
        placement: placementOf(endpoints.filter((e) => Object.entries(labels).every(([k, v]) => e.labels[k] === v))),
      };
      if (o.trafficPolicy !== undefined) sub.trafficPolicy = o.trafficPolicy;
      return sub;
    }),
  );
  const g: TrafficGraph = { host, placement: placementOf(endpoints), routes, subsets, virtualServices, destinationRules };
  const tp = destinationRules.find((d) => d.spec.trafficPolicy !== undefined)?.spec.trafficPolicy;
  if (tp !== undefined) g.trafficPolicy = tp;
  return g;
}

export const SYNC_ORDER: SyncWord[] = ["NACKED", "STALE", "NOT SENT", "SYNCED"];

export interface ProxyRow {
  proxy: ProxyEntity;
  /** The clusters it may run in, joined for display. */
  cluster: string;
  clusters: string[];
  /** The worst state of its xDS types. */
  state: SyncWord;
}

export interface ProxyFilter {
  cluster?: string;
  namespace?: string;
  state?: SyncWord | "";
  text?: string;
  connectedOnly?: boolean;
}

/**
 * Every proxy with the cluster it runs in, filtered and sorted by id. The cluster comes from
 * discovery's endpoints: the one whose pod is the proxy's, else every cluster with an endpoint
 * at the proxy's address (several when addresses overlap, as on one machine).
 */
export function proxyRows(entities: Iterable<Entity>, f: ProxyFilter = {}): ProxyRow[] {
  const byIp = new Map<string, Set<string>>();
  const byPod = new Map<string, string>();
  const proxies: ProxyEntity[] = [];
  for (const e of entities) {
    if (e.kind === "service")
      for (const ep of e.endpoints) {
        const c = ep.cluster || e.cluster;
        byIp.set(ep.address, (byIp.get(ep.address) ?? new Set()).add(c));
        if (ep.pod) byPod.set(`${e.namespace}/${ep.pod}`, c);
      }
    else if (e.kind === "proxy") proxies.push(e);
  }
  const rows: ProxyRow[] = [];
  for (const p of proxies) {
    if (f.connectedOnly && !p.connected) continue;
    if (f.namespace && p.namespace !== f.namespace) continue;
    const pod = byPod.get(`${p.namespace}/${p.pod}`);
    const clusters = pod ? [pod] : [...(byIp.get(p.ip) ?? [])].sort();
    if (f.cluster && !clusters.includes(f.cluster)) continue;
    if (f.text && !p.proxyId.includes(f.text)) continue;
    const states = Object.values(p.sync).map((s) => s.state);
    if (f.state && !states.includes(f.state)) continue;
    const state = SYNC_ORDER.find((s) => states.includes(s)) ?? "NOT SENT";
    rows.push({ proxy: p, cluster: clusters.join(", "), clusters, state });
  }
  return rows.sort(byName((r) => r.proxy.proxyId));
}

export interface CertificateCounts {
  issued: number;
  expiringSoon: number;
  expired: number;
  revoked: number;
}

/** Issued certificates by state at `now`; "expiring soon" is within a quarter of a default 24 h workload lifetime (6 h). */
export function certificateCounts(entities: Iterable<Entity>, now: number): CertificateCounts {
  const c: CertificateCounts = { issued: 0, expiringSoon: 0, expired: 0, revoked: 0 };
  for (const e of entities) {
    if (e.kind !== "certificate") continue;
    c.issued++;
    const end = Date.parse(e.notAfter);
    if (e.revoked) c.revoked++;
    else if (end <= now) c.expired++;
    else if (end - now < 6 * 3600_000) c.expiringSoon++;
  }
  return c;
}
