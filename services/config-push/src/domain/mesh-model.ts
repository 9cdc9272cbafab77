import type { KnownService } from "@isthmus/config";
import type { DataOf, serviceStateV1 } from "@isthmus/events";
import { type ConfigResource, fqdn } from "./traffic.js";

export type ServiceState = DataOf<typeof serviceStateV1>;
type Endpoint = ServiceState["endpoints"][number];

export interface HostPort {
  host: string;
  namespace: string;
  port: number;
  portName: string;
  protocol: string;
  /** Every endpoint of the host in every cluster, with the port it listens on for this service port. */
  endpoints: Array<Endpoint & { targetPort: number }>;
}

/**
 * The mesh as config-push sees it: service states by (cluster, namespace, name), merged per
 * hostname across clusters (seed 002: helloworld in cluster-1 and cluster-2 is one service).
 */
export class MeshModel {
  private readonly services = new Map<string, ServiceState>();
  private readonly configs = new Map<string, ConfigResource>();
  /** East-west gateway addresses per network. */
  private readonly gatewayMap = new Map<string, Array<{ address: string; port: number }>>();
  /** Roots per trust domain, from the CA's TrustBundleUpdated. */
  readonly trustBundles = new Map<string, string[]>();
  /** Subjects per hostname, and each hostname's merged ports (rebuilt only when one of its services changes). */
  private readonly subjectsByHost = new Map<string, Set<string>>();
  private readonly hostCache = new Map<string, HostPort[]>();
  private sortedHosts: string[] | undefined;
  /**
   * Changes whenever something that may affect every host changes (mesh configuration,
   * gateways): per-host translations made under another stamp are stale.
   */
  stamp = 0;

  get gateways(): ReadonlyMap<string, Array<{ address: string; port: number }>> {
    return this.gatewayMap;
  }

  setGateway(network: string, addresses: Array<{ address: string; port: number }>): void {
    this.gatewayMap.set(network, addresses);
    this.stamp++;
  }

  removeGateway(network: string): void {
    if (this.gatewayMap.delete(network)) this.stamp++;
  }

  allConfigs(): Iterable<ConfigResource> {
    return this.configs.values();
  }

  /** Every root of every trust domain the mesh trusts, sorted, without duplicates. */
  roots(): string[] {
    return [...new Set([...this.trustBundles.values()].flat())].sort();
  }

  /**
   * The ports a sidecar's own workload serves (its inbound side): the service ports whose
   * endpoints are this pod (or, without a pod name, this address).
   */
  inboundOf(p: { pod?: string; namespace?: string; ip?: string }): Array<{ port: number; protocol: string; namespace: string }> {
    const out = new Map<number, { port: number; protocol: string; namespace: string }>();
    const key = p.pod ? `pod:${p.namespace}/${p.pod}` : p.ip !== undefined ? `ip:${p.ip}` : undefined;
    for (const subject of (key && this.workloads().get(key)) || []) {
      const s = this.services.get(subject) as ServiceState;
      for (const e of s.endpoints) {
        const mine = p.pod ? e.pod === p.pod && s.namespace === p.namespace : e.address === p.ip;
        if (!mine) continue;
        for (const port of s.ports) {
          const target = e.ports[port.name] ?? port.targetPort ?? port.port;
          if (!out.has(target)) out.set(target, { port: target, protocol: port.protocol, namespace: s.namespace });
        }
      }
    }
    return [...out.values()].sort((a, b) => a.port - b.port);
  }

  /** Service subjects by workload (pod, and address), so a sidecar connecting does not scan the mesh; rebuilt after a change. */
  private workloadIndex: Map<string, Set<string>> | undefined;
  private workloads(): Map<string, Set<string>> {
    if (this.workloadIndex) return this.workloadIndex;
    const index = new Map<string, Set<string>>();
    const add = (k: string, subject: string) => {
      let set = index.get(k);
      if (!set) {
        set = new Set();
        index.set(k, set);
      }
      set.add(subject);
    };
    for (const [subject, s] of this.services) {
      for (const e of s.endpoints) {
        if (e.pod) add(`pod:${s.namespace}/${e.pod}`, subject);
        add(`ip:${e.address}`, subject);
      }
    }
    this.workloadIndex = index;
    return index;
  }

  upsertConfig(key: string, c: ConfigResource): void {
    this.configs.set(key, c);
    this.stamp++;
  }

  removeConfig(key: string): void {
    if (this.configs.delete(key)) this.stamp++;
  }

  /** The VirtualService and DestinationRule that apply to a host (first by name when several do). */
  configFor(host: string): { vs?: ConfigResource; dr?: ConfigResource } {
    const out: { vs?: ConfigResource; dr?: ConfigResource } = {};
    for (const c of [...this.configs.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (c.kind === "VirtualService" && !out.vs) {
        const hosts = c.spec.hosts;
        if (Array.isArray(hosts) && hosts.some((h) => typeof h === "string" && fqdn(h, c.namespace) === host)) out.vs = c;
      }
      if (c.kind === "DestinationRule" && !out.dr && typeof c.spec.host === "string" && fqdn(c.spec.host, c.namespace) === host) out.dr = c;
    }
    return out;
  }

  private touchHost(host: string): void {
    this.hostCache.delete(host);
    this.workloadIndex = undefined;
  }

  upsert(key: string, s: ServiceState): void {
    const prev = this.services.get(key);
    if (prev && prev.hostname !== s.hostname) this.remove(key);
    this.services.set(key, s);
    let subjects = this.subjectsByHost.get(s.hostname);
    if (!subjects) {
      subjects = new Set();
      this.subjectsByHost.set(s.hostname, subjects);
      this.sortedHosts = undefined;
    }
    subjects.add(key);
    this.touchHost(s.hostname);
  }

  remove(key: string): void {
    const prev = this.services.get(key);
    if (!prev) return;
    this.services.delete(key);
    const subjects = this.subjectsByHost.get(prev.hostname);
    subjects?.delete(key);
    if (subjects && !subjects.size) {
      this.subjectsByHost.delete(prev.hostname);
      this.sortedHosts = undefined;
    }
    this.touchHost(prev.hostname);
  }

  /** One hostname's ports, merged across the clusters that have it; the same objects until one of its services changes. */
  private portsOf(host: string): HostPort[] {
    let cached = this.hostCache.get(host);
    if (cached) return cached;
    const ports = new Map<number, HostPort>();
    for (const key of this.subjectsByHost.get(host) ?? []) {
      const s = this.services.get(key) as ServiceState;
      for (const p of s.ports) {
        let hp = ports.get(p.port);
        if (!hp) {
          hp = { host: s.hostname, namespace: s.namespace, port: p.port, portName: p.name, protocol: p.protocol, endpoints: [] };
          ports.set(p.port, hp);
        }
        for (const e of s.endpoints) {
          const targetPort = e.ports[p.name] ?? p.targetPort ?? p.port;
          hp.endpoints.push({ ...e, targetPort });
        }
      }
    }
    cached = [...ports.values()].sort((a, b) => a.port - b.port);
    this.hostCache.set(host, cached);
    return cached;
  }

  hostPorts(): HostPort[] {
    this.sortedHosts ??= [...this.subjectsByHost.keys()].sort();
    return this.sortedHosts.flatMap((h) => this.portsOf(h));
  }
}

/** The mesh's services as analysis needs them: hostnames, ports, endpoint labels. */
export function knownServices(model: MeshModel): KnownService[] {
  const byHost = new Map<string, KnownService>();
  for (const hp of model.hostPorts()) {
    const s = byHost.get(hp.host) ?? { hostname: hp.host, namespace: hp.namespace, ports: [], endpointLabels: [] };
    s.ports.push(hp.port);
    if (s.ports.length === 1) s.endpointLabels = hp.endpoints.map((e) => e.labels);
    byHost.set(hp.host, s);
  }
  return [...byHost.values()];
}
