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
  readonly gateways = new Map<string, Array<{ address: string; port: number }>>();
  /** Roots per trust domain, from the CA's TrustBundleUpdated. */
  readonly trustBundles = new Map<string, string[]>();

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
    for (const s of this.services.values()) {
      for (const e of s.endpoints) {
        const mine = p.pod ? e.pod === p.pod && s.namespace === p.namespace : p.ip !== undefined && e.address === p.ip;
        if (!mine) continue;
        for (const port of s.ports) {
          const target = e.ports[port.name] ?? port.targetPort ?? port.port;
          if (!out.has(target)) out.set(target, { port: target, protocol: port.protocol, namespace: s.namespace });
        }
      }
    }
    return [...out.values()].sort((a, b) => a.port - b.port);
  }

  upsertConfig(key: string, c: ConfigResource): void {
    this.configs.set(key, c);
  }

  removeConfig(key: string): void {
    this.configs.delete(key);
  }

  /** The VirtualService and DestinationRule that apply to a host (first by name when several do). */
  configFor(host: string): { vs?: ConfigResource; dr?: ConfigResource } {
    const out: { vs?: ConfigResource; dr?: ConfigResource } = {};
    for (const c of [...this.configs.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (c.kind === "VirtualService" && !out.vs && ((c.spec.hosts as string[] | undefined) ?? []).some((h) => fqdn(h, c.namespace) === host)) out.vs = c;
      if (c.kind === "DestinationRule" && !out.dr && typeof c.spec.host === "string" && fqdn(c.spec.host, c.namespace) === host) out.dr = c;
    }
    return out;
  }

  upsert(key: string, s: ServiceState): void {
    this.services.set(key, s);
  }

  remove(key: string): void {
    this.services.delete(key);
  }

  hostPorts(): HostPort[] {
    const byHost = new Map<string, Map<number, HostPort>>();
    for (const s of this.services.values()) {
      let ports = byHost.get(s.hostname);
      if (!ports) {
        ports = new Map();
        byHost.set(s.hostname, ports);
      }
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
    return [...byHost.values()].flatMap((m) => [...m.values()]).sort((a, b) => (a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1));
  }
}
