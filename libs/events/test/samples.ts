import type { EventDef } from "../src/index.js";

const now = "2026-01-01T00:00:00.000Z";
const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const locality = { region: "r", zone: "z", subzone: "" };

/** One valid data object per event type, by type name: a new type without one fails the suites that use them. */
export const SAMPLES: Record<string, unknown> = {
  "io.isthmus.discovery.service_state.v1": {
    cluster: "c1",
    namespace: "default",
    name: "reviews",
    hostname: "reviews.default.svc.cluster.local",
    ports: [{ name: "http", port: 9080, protocol: "HTTP" }],
    endpoints: [
      { address: "10.0.0.1", ports: { http: 9080 }, ready: true, serving: true, terminating: false, cluster: "c1", network: "", locality, labels: {} },
    ],
    stale: false,
  },
  "io.isthmus.discovery.cluster_status.v1": { cluster: "c1", mode: "managed", network: "", region: "", zone: "", state: "Synced", since: now },
  "io.isthmus.discovery.network_gateway.v1": { network: "network1", addresses: [{ address: "192.0.2.1", port: 15443 }] },
  "io.isthmus.config.resource.v1": {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    namespace: "default",
    name: "reviews",
    labels: {},
    spec: { hosts: ["reviews"] },
  },
  "io.isthmus.ca.trust_bundle_updated.v1": { trustDomain: "cluster.local", roots: [cert], version: 1 },
  "io.isthmus.ca.certificate_issued.v1": {
    serial: "0a",
    spiffeId: "spiffe://cluster.local/ns/default/sa/reviews",
    notBefore: now,
    notAfter: now,
    issuer: "i",
    requester: "r",
  },
  "io.isthmus.ca.certificate_revoked.v1": { serial: "0a", reason: "keyCompromise", revokedAt: now },
  "io.isthmus.ca.intermediate_rotated.v1": { mesh: "mesh-1", serial: "0b", notAfter: now, rootFingerprint: "ff", certificate: cert },
  "io.isthmus.push.config_translation.v1": {
    kind: "VirtualService",
    namespace: "default",
    name: "reviews",
    problems: [{ code: "IST0101", name: "ReferencedResourceNotFound", level: "Warning", message: "no such host", path: "spec.http[0]" }],
  },
  "io.isthmus.push.proxy_status.v1": {
    proxyId: "sidecar~10.0.0.1~a.default~default.svc.cluster.local",
    instance: "cp-1",
    connected: true,
    since: now,
    types: {},
  },
  "io.isthmus.pvl.status_changed.v1": { name: "pvl-1", status: "Ready", conditions: [], resourceStatus: {} },
};

export function sampleOf(def: EventDef): unknown {
  const s = SAMPLES[def.type];
  if (s === undefined) throw new Error(`no sample for ${def.type}: add one to libs/events/test/samples.ts`);
  return structuredClone(s);
}

/** A valid event's JSON with one thing changed: a field dropped, retyped or re-valued, anywhere in it. */
export function mutate(value: unknown, path: number[], replacement: unknown, drop: boolean): unknown {
  if (value === null || typeof value !== "object" || path.length === 0) return replacement;
  const [i = 0, ...rest] = path;
  if (Array.isArray(value)) {
    if (!value.length) return drop ? value : [replacement];
    const k = i % value.length;
    const out = [...value];
    if (drop && rest.length === 0) out.splice(k, 1);
    else out[k] = mutate(value[k], rest, replacement, drop);
    return out;
  }
  const keys = Object.keys(value);
  if (!keys.length) return drop ? value : { x: replacement };
  const key = keys[i % keys.length] as string;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (drop && rest.length === 0) delete out[key];
  else out[key] = mutate(out[key], rest, replacement, drop);
  return out;
}
