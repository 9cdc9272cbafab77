import type { DataOf, serviceStateV1 } from "@isthmus/events";
import { unusableEndpointAddress } from "./address.js";
import {
  type ClusterMeta,
  type EndpointSliceObject,
  NETWORK_LABEL,
  type NodeObject,
  type PodObject,
  REGION_LABEL,
  type ServiceObject,
  SUBZONE_LABEL,
  ZONE_LABEL,
} from "./model.js";
import { selectProtocol } from "./protocol.js";

export type ServiceState = DataOf<typeof serviceStateV1>;
type Endpoint = ServiceState["endpoints"][number];

export interface Skipped {
  object: string;
  reason: string;
}

export const MAX_LABELS = 64;
export const MAX_LABEL_BYTES = 16 * 1024;

export interface Lookup {
  pod(namespace: string, name: string): PodObject | undefined;
  node(name: string): NodeObject | undefined;
}

/** A list field as a list; anything else (a manifest's `ports: 5`) reads as empty, said in `skipped`. */
export function listOf<T>(v: T[] | null | undefined, skipped: Skipped[], object: string, field: string): T[] {
  if (Array.isArray(v)) return v;
  if (v !== undefined && v !== null) skipped.push({ object, reason: `${field} is not a list: ${JSON.stringify(v).slice(0, 80)}` });
  return [];
}

const validPort = (p: unknown): p is number => typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;

function labelsTooBig(labels: Record<string, string>): string | undefined {
  const n = Object.keys(labels).length;
  if (n > MAX_LABELS) return `${n} labels (more than ${MAX_LABELS})`;
  let bytes = 0;
  for (const [k, v] of Object.entries(labels)) bytes += k.length + v.length;
  if (bytes > MAX_LABEL_BYTES) return `labels of ${bytes} bytes (more than ${MAX_LABEL_BYTES})`;
  return undefined;
}

/**
 * One service in one cluster, as the full state discovery publishes: ports with their
 * protocols and every endpoint with readiness, pod labels, service account, locality and
 * network. Pure: what it cannot use it skips, saying why; the rest is published.
 */
export function translateService(
  cluster: ClusterMeta,
  svc: ServiceObject,
  slices: EndpointSliceObject[],
  lookup: Lookup,
): { state?: ServiceState; skipped: Skipped[] } {
  const skipped: Skipped[] = [];
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  if (!ns || !name) return { skipped: [{ object: `Service ${ns ?? "?"}/${name ?? "?"}`, reason: "missing metadata.name or metadata.namespace" }] };
  const ports: ServiceState["ports"] = [];
  for (const p of listOf(svc.spec?.ports, skipped, `Service ${ns}/${name}`, "spec.ports")) {
    if (!p || typeof p !== "object") {
      skipped.push({ object: `Service ${ns}/${name}`, reason: `port ${JSON.stringify(p)} is not an object` });
      continue;
    }
    if (!validPort(p.port)) {
      skipped.push({ object: `Service ${ns}/${name}`, reason: `invalid port ${JSON.stringify(p.port)}` });
      continue;
    }
    const port: ServiceState["ports"][number] = { name: p.name ?? "", port: p.port, protocol: selectProtocol(p) };
    if (validPort(p.targetPort)) port.targetPort = p.targetPort;
    ports.push(port);
  }

  const byAddress = new Map<string, Endpoint>();
  for (const slice of slices) {
    const sliceName = `EndpointSlice ${ns}/${slice.metadata.name ?? "?"}`;
    if (slice.addressType !== "IPv4" && slice.addressType !== "IPv6") {
      skipped.push({ object: sliceName, reason: `unknown address type ${JSON.stringify(slice.addressType)}` });
      continue;
    }
    const slicePorts: Record<string, number> = {};
    for (const p of listOf(slice.ports, skipped, sliceName, "ports")) {
      if (p && validPort(p.port)) slicePorts[p.name ?? ""] = p.port;
      else skipped.push({ object: sliceName, reason: `invalid port ${JSON.stringify(p.port)}` });
    }
    for (const ep of listOf(slice.endpoints, skipped, sliceName, "endpoints")) {
      if (!ep || typeof ep !== "object") {
        skipped.push({ object: sliceName, reason: `endpoint ${JSON.stringify(ep)} is not an object` });
        continue;
      }
      const pod = ep.targetRef?.kind === "Pod" && ep.targetRef.name ? lookup.pod(ep.targetRef.namespace ?? ns, ep.targetRef.name) : undefined;
      const labels = pod?.metadata.labels ?? {};
      const tooBig = labelsTooBig(labels);
      if (tooBig) {
        skipped.push({ object: `Pod ${ns}/${pod?.metadata.name}`, reason: `oversized label set: ${tooBig}` });
        continue;
      }
      const nodeName = ep.nodeName ?? pod?.spec?.nodeName;
      const nodeLabels = nodeName ? (lookup.node(nodeName)?.metadata.labels ?? {}) : {};
      for (const address of listOf(ep.addresses, skipped, sliceName, "endpoints[].addresses")) {
        const unusable = typeof address === "string" ? unusableEndpointAddress(address) : `invalid IP address ${JSON.stringify(address)}`;
        if (unusable) {
          skipped.push({ object: sliceName, reason: unusable });
          continue;
        }
        // One endpoint per pod and address: a pod listed in several slices (different ports)
        // is merged; two pods on one address (host network) stay two endpoints.
        const key = ep.targetRef?.kind === "Pod" ? `${address}|${ep.targetRef.namespace ?? ns}/${ep.targetRef.name}` : address;
        const prev = byAddress.get(key);
        if (prev) {
          Object.assign(prev.ports, slicePorts);
          continue;
        }
        const c = ep.conditions ?? {};
        const e: Endpoint = {
          address,
          ports: { ...slicePorts },
          // Kubernetes: a nil ready means ready; serving follows ready when absent.
          ready: c.ready !== false,
          serving: c.serving ?? c.ready !== false,
          terminating: c.terminating === true,
          cluster: cluster.id,
          network: labels[NETWORK_LABEL] ?? cluster.network,
          locality: {
            region: nodeLabels[REGION_LABEL] ?? cluster.region,
            zone: nodeLabels[ZONE_LABEL] ?? ep.zone ?? cluster.zone,
            subzone: nodeLabels[SUBZONE_LABEL] ?? "",
          },
          labels,
        };
        if (pod?.spec?.serviceAccountName) e.serviceAccount = pod.spec.serviceAccountName;
        if (pod?.metadata.name) e.pod = pod.metadata.name;
        if (nodeName) e.node = nodeName;
        byAddress.set(key, e);
      }
    }
  }
  // Sorted, so equal states encode equally and hash to the same message id.
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const endpoints = [...byAddress.values()].sort((a, b) => cmp(a.address, b.address) || cmp(a.pod ?? "", b.pod ?? ""));
  return {
    state: { cluster: cluster.id, namespace: ns, name, hostname: `${name}.${ns}.svc.cluster.local`, ports, endpoints, stale: false },
    skipped,
  };
}
