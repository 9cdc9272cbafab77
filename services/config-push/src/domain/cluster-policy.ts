import type { ClusterPolicy, HashKey, Route } from "@isthmus/xds";
import { ConfigError, type ConfigResource, durationMs } from "./traffic.js";

/*
 * A DestinationRule as cluster policies (networking.istio.io/v1 DestinationRule): the
 * host's trafficPolicy, its portLevelSettings for the port, and each subset's policy over
 * them, as Istio merges them (a field a more specific level sets replaces the whole field).
 */

interface LoadBalancer {
  simple?: string;
  consistentHash?: {
    httpHeaderName?: string;
    httpCookie?: { name: string; path?: string; ttl?: string };
    useSourceIp?: boolean;
    httpQueryParameterName?: string;
    ringHash?: { minimumRingSize?: number };
    maglev?: { tableSize?: number };
    minimumRingSize?: number;
  };
  warmupDurationSecs?: string;
  localityLbSetting?: unknown;
}
interface ConnectionPool {
  tcp?: {
    maxConnections?: number;
    connectTimeout?: string;
    tcpKeepalive?: { probes?: number; time?: string; interval?: string };
    maxConnectionDuration?: string;
    idleTimeout?: string;
  };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeout?: string;
    maxConcurrentStreams?: number;
    h2UpgradePolicy?: string;
    useClientProtocol?: boolean;
  };
}
interface OutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
}
export interface ClientTls {
  mode?: string;
  caCertificates?: string;
  clientCertificate?: string;
  privateKey?: string;
  credentialName?: string;
  sni?: string;
  subjectAltNames?: string[];
  insecureSkipVerify?: boolean;
}
interface TrafficPolicy {
  loadBalancer?: LoadBalancer;
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
  tls?: ClientTls;
  portLevelSettings?: Array<{ port?: { number?: number } } & Omit<TrafficPolicy, "portLevelSettings">>;
}

export interface Subset {
  name: string;
  labels: Record<string, string>;
  policy: ClusterPolicy;
}

/** The system trust store Istio verifies SIMPLE/MUTUAL upstreams with when no caCertificates are given. */
export const SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt";

const SETTINGS = ["loadBalancer", "connectionPool", "outlierDetection", "tls"] as const;

/** A policy with its portLevelSettings for `port` applied (each of their fields replaces the policy's). */
function atPort(tp: TrafficPolicy | undefined, port: number | undefined): TrafficPolicy {
  const { portLevelSettings, ...base } = tp ?? {};
  const pl = port === undefined ? undefined : portLevelSettings?.find((p) => p.port?.number === port);
  const out: TrafficPolicy = { ...base };
  for (const k of SETTINGS) if (pl?.[k]) (out as Record<string, unknown>)[k] = pl[k];
  return out;
}

function hashKey(ch: NonNullable<LoadBalancer["consistentHash"]>): HashKey | undefined {
  if (ch.httpHeaderName) return { header: ch.httpHeaderName };
  if (ch.httpCookie) {
    const ttl = durationMs(ch.httpCookie.ttl);
    return { cookie: { name: ch.httpCookie.name, ...(ch.httpCookie.path ? { path: ch.httpCookie.path } : {}), ...(ttl !== undefined ? { ttlMs: ttl } : {}) } };
  }
  if (ch.useSourceIp) return { sourceIp: true };
  if (ch.httpQueryParameterName) return { queryParameter: ch.httpQueryParameterName };
  return undefined;
}

function loadBalancing(lb: LoadBalancer, out: ClusterPolicy): void {
  if (lb.localityLbSetting) throw new ConfigError("loadBalancer.localityLbSetting is not supported");
  const ch = lb.consistentHash;
  if (ch) {
    const key = hashKey(ch);
    if (key) out.hash = key;
    if (ch.maglev) {
      out.lbPolicy = "MAGLEV";
      if (ch.maglev.tableSize) out.maglevTableSize = ch.maglev.tableSize;
    } else {
      out.lbPolicy = "RING_HASH";
      const min = ch.ringHash?.minimumRingSize ?? ch.minimumRingSize;
      if (min) out.minimumRingSize = min;
    }
  } else if (lb.simple === "LEAST_REQUEST" || lb.simple === "LEAST_CONN") out.lbPolicy = "LEAST_REQUEST";
  else if (lb.simple === "RANDOM") out.lbPolicy = "RANDOM";
  else if (lb.simple === "PASSTHROUGH") throw new ConfigError("loadBalancer.simple PASSTHROUGH is not supported");
  else if (lb.simple) out.lbPolicy = "ROUND_ROBIN";
  const warmup = durationMs(lb.warmupDurationSecs);
  if (warmup) out.slowStartMs = warmup;
}

function connectionPool(cp: ConnectionPool, out: ClusterPolicy): void {
  const t = cp.tcp ?? {};
  const h = cp.http ?? {};
  if (h.h2UpgradePolicy && h.h2UpgradePolicy !== "DEFAULT") throw new ConfigError("connectionPool.http.h2UpgradePolicy is not supported");
  if (h.useClientProtocol) throw new ConfigError("connectionPool.http.useClientProtocol is not supported");
  const set = <K extends keyof ClusterPolicy>(k: K, v: ClusterPolicy[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("maxConnections", t.maxConnections);
  set("connectTimeoutMs", durationMs(t.connectTimeout));
  set("maxConnectionDurationMs", durationMs(t.maxConnectionDuration));
  if (t.tcpKeepalive) {
    const time = durationMs(t.tcpKeepalive.time);
    const interval = durationMs(t.tcpKeepalive.interval);
    out.tcpKeepalive = {
      ...(t.tcpKeepalive.probes !== undefined ? { probes: t.tcpKeepalive.probes } : {}),
      ...(time !== undefined ? { timeS: Math.floor(time / 1000) } : {}),
      ...(interval !== undefined ? { intervalS: Math.floor(interval / 1000) } : {}),
    };
  }
  set("maxPendingRequests", h.http1MaxPendingRequests);
  set("maxRequests", h.http2MaxRequests);
  set("maxRequestsPerConnection", h.maxRequestsPerConnection);
  set("maxRetries", h.maxRetries);
  set("idleTimeoutMs", durationMs(h.idleTimeout ?? t.idleTimeout));
  set("maxConcurrentStreams", h.maxConcurrentStreams);
}

function clientTls(tls: ClientTls, out: ClusterPolicy): void {
  if (tls.mode !== "SIMPLE" && tls.mode !== "MUTUAL") return; // ISTIO_MUTUAL and DISABLE: mesh mTLS or none (security.ts)
  if (tls.credentialName) throw new ConfigError("tls.credentialName is not supported (config-push serves no Kubernetes secrets); use certificate files");
  if (tls.mode === "MUTUAL" && !(tls.clientCertificate && tls.privateKey)) throw new ConfigError("tls.mode MUTUAL needs clientCertificate and privateKey");
  out.origination = {
    ...(tls.mode === "MUTUAL" ? { certFile: tls.clientCertificate as string, keyFile: tls.privateKey as string } : {}),
    ...(tls.insecureSkipVerify ? {} : { caFile: tls.caCertificates ?? SYSTEM_CA_FILE }),
    ...(tls.sni ? { sni: tls.sni } : {}),
    ...(tls.subjectAltNames?.length ? { subjectAltNames: tls.subjectAltNames } : {}),
  };
}

function clusterPolicy(tp: TrafficPolicy | undefined): ClusterPolicy {
  const out: ClusterPolicy = {};
  if (tp?.loadBalancer) loadBalancing(tp.loadBalancer, out);
  const od = tp?.outlierDetection;
  if (od) {
    out.outlierDetection = {
      consecutive5xx: od.consecutive5xxErrors ?? od.consecutiveGatewayErrors ?? 5,
      intervalMs: durationMs(od.interval) ?? 10_000,
      baseEjectionMs: durationMs(od.baseEjectionTime) ?? 30_000,
      maxEjectionPercent: od.maxEjectionPercent ?? 10,
    };
  }
  if (tp?.connectionPool) connectionPool(tp.connectionPool, out);
  if (tp?.tls) clientTls(tp.tls, out);
  return out;
}

/** A DestinationRule's default policy and subsets for one host (and port: its portLevelSettings apply). */
export function destinationPolicy(dr: ConfigResource | undefined, port?: number): { policy: ClusterPolicy; subsets: Subset[] } {
  if (!dr) return { policy: {}, subsets: [] };
  const spec = dr.spec as { trafficPolicy?: TrafficPolicy; subsets?: Array<{ name: string; labels?: Record<string, string>; trafficPolicy?: TrafficPolicy }> };
  const top = atPort(spec.trafficPolicy, port);
  return {
    policy: clusterPolicy(top),
    // Istio's MergeTrafficPolicy: each setting the subset has replaces the host's.
    subsets: (spec.subsets ?? []).map((s) => ({ name: s.name, labels: s.labels ?? {}, policy: clusterPolicy({ ...top, ...atPort(s.trafficPolicy, port) }) })),
  };
}

/**
 * Routes with the consistent-hash key of their (first) destination's DestinationRule:
 * Envoy and gRPC hash per route, so the key a DestinationRule sets goes on every route to it.
 */
export function withHashPolicies(routes: Route[], hashOf: (cluster: string) => HashKey | undefined): Route[] {
  return routes.map((r) => {
    const first = r.action.clusters[0]?.name;
    const hash = first ? hashOf(first) : undefined;
    return hash ? { ...r, action: { ...r.action, hash } } : r;
  });
}

/** The consistent-hash key of `outbound|<port>|<subset>|<host>` under its host's DestinationRule. */
export function clusterHash(cluster: string, drOf: (host: string) => ConfigResource | undefined): HashKey | undefined {
  const [, port, subset, host] = cluster.split("|");
  if (!host) return undefined;
  try {
    const { policy, subsets } = destinationPolicy(drOf(host), Number(port));
    return (subset ? subsets.find((s) => s.name === subset)?.policy : policy)?.hash;
  } catch {
    return undefined; // that DestinationRule is reported where its own host is translated
  }
}
