import { unusableEndpointAddress } from "./address.js";
import type { ClusterMeta } from "./model.js";
import { type Protocol, selectProtocol } from "./protocol.js";
import { listOf, type ServiceState, type Skipped } from "./translate.js";

export interface WorkloadSpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  serviceAccount?: string;
}

export interface ServiceEntryObject {
  metadata: { name?: string; namespace?: string };
  spec?: {
    hosts?: string[];
    ports?: Array<{ number?: number; name?: string; protocol?: string; targetPort?: number }>;
    endpoints?: WorkloadSpec[];
    workloadSelector?: { labels?: Record<string, string> };
  };
}

export interface WorkloadEntryObject {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: WorkloadSpec;
}

const PROTOCOLS = new Set(["HTTP", "HTTP2", "GRPC", "HTTPS", "TLS", "TCP", "UDP", "MONGO", "REDIS", "MYSQL"]);

/**
 * A ServiceEntry (Istio networking API) as service state: its first host, its ports,
 * inline endpoints and the WorkloadEntries its workloadSelector picks.
 */
export function translateServiceEntry(
  cluster: ClusterMeta,
  se: ServiceEntryObject,
  workloads: WorkloadEntryObject[],
): { state?: ServiceState; skipped: Skipped[] } {
  const ns = se.metadata.namespace ?? "default";
  const name = se.metadata.name;
  const where = `ServiceEntry ${ns}/${name ?? "?"}`;
  const hosts = se.spec?.hosts;
  const host = Array.isArray(hosts) && typeof hosts[0] === "string" ? hosts[0] : undefined;
  if (!name || !host) return { skipped: [{ object: where, reason: "missing metadata.name or spec.hosts" }] };
  const skipped: Skipped[] = [];
  const ports: ServiceState["ports"] = [];
  for (const p of listOf(se.spec?.ports, skipped, where, "spec.ports")) {
    if (!p || typeof p !== "object") {
      skipped.push({ object: where, reason: `port ${JSON.stringify(p)} is not an object` });
      continue;
    }
    if (typeof p.number !== "number" || !Number.isInteger(p.number) || p.number < 1 || p.number > 65535) {
      skipped.push({ object: where, reason: `invalid port ${JSON.stringify(p.number)}` });
      continue;
    }
    const declared = typeof p.protocol === "string" ? p.protocol.toUpperCase() : undefined;
    const protocol = (declared && PROTOCOLS.has(declared) ? declared : selectProtocol({ name: p.name })) as Protocol;
    ports.push({ name: p.name ?? "", port: p.number, protocol, ...(p.targetPort ? { targetPort: p.targetPort } : {}) });
  }
  const rawSelector = se.spec?.workloadSelector?.labels;
  const selector = rawSelector && typeof rawSelector === "object" ? rawSelector : undefined;
  const selected = selector
    ? workloads.filter(
        (w) => (w.metadata.namespace ?? "default") === ns && Object.entries(selector).every(([k, v]) => (w.metadata.labels ?? w.spec?.labels ?? {})[k] === v),
      )
    : [];
  const endpoints: ServiceState["endpoints"] = [];
  for (const w of [
    ...listOf(se.spec?.endpoints, skipped, where, "spec.endpoints"),
    ...selected.map((x) => ({ ...x.spec, labels: { ...(x.metadata.labels ?? {}), ...(x.spec?.labels ?? {}) } })),
  ]) {
    if (!w || typeof w !== "object") {
      skipped.push({ object: where, reason: `endpoint ${JSON.stringify(w)} is not an object` });
      continue;
    }
    const unusable = typeof w.address === "string" ? unusableEndpointAddress(w.address) : `invalid IP address ${JSON.stringify(w.address)}`;
    if (unusable || !w.address) {
      skipped.push({ object: where, reason: unusable ?? "no address" });
      continue;
    }
    const [region = "", zone = "", subzone = ""] = (typeof w.locality === "string" ? w.locality : "").split("/");
    const portMap: Record<string, number> = {};
    for (const p of ports) portMap[p.name] = w.ports?.[p.name] ?? p.targetPort ?? p.port;
    endpoints.push({
      address: w.address,
      ports: portMap,
      ready: true,
      serving: true,
      terminating: false,
      cluster: cluster.id,
      network: w.network ?? cluster.network,
      locality: { region: region || cluster.region, zone: zone || cluster.zone, subzone },
      labels: w.labels ?? {},
      ...(w.serviceAccount ? { serviceAccount: w.serviceAccount } : {}),
    });
  }
  endpoints.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { state: { cluster: cluster.id, namespace: ns, name, hostname: host, ports, endpoints, stale: false }, skipped };
}
