import { createHash } from "node:crypto";
import {
  clusterLoadAssignment,
  edsCluster,
  type LocalityEndpoints,
  outboundCluster,
  proxylessListener,
  type ResourceInput,
  routeConfiguration,
  TYPE,
  type TypeUrl,
} from "@isthmus/xds";
import type { HostPort, MeshModel } from "./mesh-model.js";
import { ConfigError, destinationPolicy, routesFor } from "./traffic.js";

const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("base64url").slice(0, 16);

/**
 * xDS resources for proxyless gRPC clients (and the outbound side of sidecars): per
 * host:port a listener `<host>:<port>` with routes to `outbound|<port>||<host>`, an EDS
 * cluster, and its endpoints grouped by locality. Only serving endpoints are sent.
 */
export interface ConfigProblem {
  resource: string;
  reason: string;
}

export function translate(model: MeshModel, problems: ConfigProblem[] = []): Map<TypeUrl, Map<string, ResourceInput>> {
  const out = new Map<TypeUrl, Map<string, ResourceInput>>([
    [TYPE.listener, new Map()],
    [TYPE.route, new Map()],
    [TYPE.cluster, new Map()],
    [TYPE.endpoint, new Map()],
  ]);
  for (const hp of model.hostPorts()) {
    const name = `${hp.host}:${hp.port}`;
    const { vs, dr } = model.configFor(hp.host);
    out.get(TYPE.listener)?.set(name, { hash: hash(["l", name]), build: () => proxylessListener(name, name) });
    const domains = [name, hp.host];
    let routes: ReturnType<typeof routesFor>;
    try {
      routes = routesFor(hp.host, hp.port, vs);
    } catch (err) {
      // A VirtualService that cannot be translated is skipped, with its reason; the host keeps default routing.
      if (!(err instanceof ConfigError)) throw err;
      problems.push({ resource: `VirtualService ${vs?.namespace}/${vs?.name}`, reason: err.message });
      routes = routesFor(hp.host, hp.port, undefined);
    }
    out.get(TYPE.route)?.set(name, { hash: hash(["r", name, domains, routes]), build: () => routeConfiguration(name, domains, routes) });
    const { policy, subsets } = destinationPolicy(dr);
    // The default cluster with every endpoint, and one per DestinationRule subset.
    for (const c of [{ name: "", labels: {} as Record<string, string>, policy }, ...subsets]) {
      const cluster = outboundCluster(hp.port, hp.host, c.name);
      out.get(TYPE.cluster)?.set(cluster, { hash: hash(["c", cluster, c.policy]), build: () => edsCluster(cluster, c.policy) });
      const localities = localitiesOf(hp, c.labels);
      out.get(TYPE.endpoint)?.set(cluster, { hash: hash(["e", cluster, localities]), build: () => clusterLoadAssignment(cluster, localities) });
    }
  }
  return out;
}

function localitiesOf(hp: HostPort, labels: Record<string, string>): LocalityEndpoints[] {
  const byLocality = new Map<string, LocalityEndpoints>();
  for (const e of hp.endpoints) {
    if (!e.serving) continue;
    if (!Object.entries(labels).every(([k, v]) => e.labels[k] === v)) continue;
    const k = `${e.locality.region}/${e.locality.zone}/${e.locality.subzone}`;
    let l = byLocality.get(k);
    if (!l) {
      l = { locality: e.locality, endpoints: [] };
      byLocality.set(k, l);
    }
    l.endpoints.push({ address: e.address, port: e.targetPort, healthy: e.ready });
  }
  return [...byLocality.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, l]) => ({ ...l, endpoints: l.endpoints.sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1)) }));
}
