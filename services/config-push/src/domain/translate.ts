import { createHash } from "node:crypto";
import {
  clusterLoadAssignment,
  downstreamMtls,
  edsCluster,
  fileCertificateSecret,
  grpcServerListener,
  grpcServerListenerName,
  inboundCluster,
  inboundStaticCluster,
  type LocalityEndpoints,
  outboundCluster,
  outboundHttpListener,
  outboundSni,
  passthroughCluster,
  proxylessListener,
  type ResourceInput,
  type Route,
  rootCaSecret,
  routeConfiguration,
  SDS_CERTIFICATE,
  SDS_ROOT,
  TYPE,
  type TypeUrl,
  upstreamMtls,
  type VirtualHost,
  virtualHostsRouteConfiguration,
  virtualInboundListener,
  virtualOutboundListener,
} from "@isthmus/xds";
import type { HostPort, MeshModel } from "./mesh-model.js";
import { clientMtls, type MtlsMode, peerAuthenticationMode } from "./security.js";
import { ConfigError, type ConfigResource, destinationPolicy, routesFor } from "./traffic.js";

const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("base64url").slice(0, 16);

/**
 * What a group of proxies sees. Every proxy of a view gets the same resources, so each is
 * built and encoded once per view (and, through the shared memo, once across views).
 */
export interface View {
  flavour: "grpc" | "envoy";
  /** The proxies' network: endpoints on other networks are reached through that network's east-west gateway. */
  network: string;
  /** Envoy only: the ports the proxies' own workload serves (their virtualInbound). */
  inbound: Array<{ port: number; protocol: string; namespace: string }>;
}

export function viewKey(v: View): string {
  return `${v.flavour}|${v.network}|${v.inbound.map((p) => `${p.namespace}/${p.port}/${p.protocol}`).join(",")}`;
}

/** A configuration object (or part of one) the translation had to skip, and why. */
export interface ConfigProblem {
  resource: string;
  reason: string;
  /** The object's identity, when the problem belongs to one. */
  object?: { kind: string; namespace: string; name: string };
}

const problemOf = (c: ConfigResource | undefined, reason: string): ConfigProblem => ({
  resource: c ? `${c.kind} ${c.namespace}/${c.name}` : "mesh",
  reason,
  ...(c ? { object: { kind: c.kind, namespace: c.namespace, name: c.name } } : {}),
});

export interface TranslateOptions {
  trustDomain: string;
  /** Where a sidecar's agent keeps its certificate files (the SDS `default` secret points there). */
  sdsCertDir: string;
}

export const DEFAULT_TRANSLATE: TranslateOptions = { trustDomain: "cluster.local", sdsCertDir: "/var/run/secrets/workload-spiffe-credentials" };

const HTTP_PROTOCOLS = new Set(["HTTP", "HTTP2", "GRPC"]);

/**
 * The xDS resources of one view.
 * - Proxyless gRPC: per host:port a listener `<host>:<port>` whose routes go to
 *   `outbound|<port>|<subset>|<host>`, EDS clusters and their endpoints, and a server
 *   listener for each endpoint address (gRFC A36), mTLS through certificate providers.
 * - Envoy: Istio's sidecar shape — `virtualOutbound`, `0.0.0.0_<port>` listeners with RDS
 *   `<port>` (a virtual host per service), the same outbound clusters with SDS-based mTLS,
 *   `virtualInbound` and `inbound|<port>||` for the proxy's own workload, `PassthroughCluster`,
 *   and the SDS secrets `default` and `ROOTCA`.
 * Only serving endpoints are sent; endpoints on another network become that network's gateway.
 */
export function translate(
  model: MeshModel,
  view: View = { flavour: "grpc", network: "", inbound: [] },
  problems: ConfigProblem[] = [],
  o: TranslateOptions = DEFAULT_TRANSLATE,
): Map<TypeUrl, Map<string, ResourceInput>> {
  const listeners = new Map<string, ResourceInput>();
  const routes = new Map<string, ResourceInput>();
  const clusters = new Map<string, ResourceInput>();
  const endpoints = new Map<string, ResourceInput>();
  const secrets = new Map<string, ResourceInput>();
  const out = new Map<TypeUrl, Map<string, ResourceInput>>([
    [TYPE.listener, listeners],
    [TYPE.route, routes],
    [TYPE.cluster, clusters],
    [TYPE.endpoint, endpoints],
  ]);
  const modes = new Map<string, MtlsMode>();
  const modeOf = (ns: string) => {
    let m = modes.get(ns);
    if (!m) {
      m = peerAuthenticationMode(model.allConfigs(), ns);
      modes.set(ns, m);
    }
    return m;
  };
  const envoy = view.flavour === "envoy";
  const vhostsByPort = new Map<number, VirtualHost[]>();
  const serverListeners = new Map<string, { ip: string; port: number; strict: boolean }>();
  const key = viewKey(view);

  for (const hp of model.hostPorts()) {
    // Per host, what it contributes is remembered until the host or the mesh-wide inputs
    // change: an endpoint change re-translates one host, not the mesh.
    let memo = hostMemo.get(hp);
    if (!memo) {
      memo = new Map();
      hostMemo.set(hp, memo);
    }
    let done = memo.get(key);
    if (!done || done.stamp !== model.stamp || done.o !== o) {
      done = { stamp: model.stamp, o, out: isolatedHost(model, hp, view, modeOf, o) };
      memo.set(key, done);
    }
    const h = done.out;
    problems.push(...h.problems);
    for (const [n, r] of h.listeners) listeners.set(n, r);
    for (const [n, r] of h.routes) routes.set(n, r);
    for (const [n, r] of h.clusters) clusters.set(n, r);
    for (const [n, r] of h.endpoints) endpoints.set(n, r);
    for (const [n, l] of h.servers) {
      const prev = serverListeners.get(n);
      serverListeners.set(n, { ...l, strict: l.strict || (prev?.strict ?? false) });
    }
    if (envoy && h.vhost) {
      const hosts = vhostsByPort.get(hp.port) ?? [];
      hosts.push(h.vhost);
      vhostsByPort.set(hp.port, hosts);
    }
  }

  for (const [name, l] of serverListeners) {
    listeners.set(name, {
      hash: hash(["sl", name, l.strict]),
      build: () => grpcServerListener(name, l.ip, l.port, l.strict ? downstreamMtls({ flavour: "grpc" }) : undefined),
    });
  }

  if (envoy) {
    listeners.set("virtualOutbound", { hash: hash(["vo"]), build: virtualOutboundListener });
    clusters.set("PassthroughCluster", { hash: hash(["pc"]), build: passthroughCluster });
    for (const [port, hosts] of vhostsByPort) {
      const listener = `0.0.0.0_${port}`;
      listeners.set(listener, { hash: hash(["ol", port]), build: () => outboundHttpListener(port) });
      routes.set(String(port), { hash: hash(["rp", port, hosts]), build: () => virtualHostsRouteConfiguration(String(port), hosts) });
    }
    const inbound = view.inbound.map((p) => ({ port: p.port, cluster: inboundCluster(p.port), strict: modeOf(p.namespace) === "STRICT" }));
    listeners.set("virtualInbound", {
      hash: hash(["vi", inbound]),
      build: () =>
        virtualInboundListener(inbound.map((p) => ({ port: p.port, cluster: p.cluster, ...(p.strict ? { tls: downstreamMtls({ flavour: "envoy" }) } : {}) }))),
    });
    for (const p of inbound) clusters.set(p.cluster, { hash: hash(["ic", p.cluster, p.port]), build: () => inboundStaticCluster(p.cluster, p.port) });
    const roots = model.roots();
    if (roots.length) secrets.set(SDS_ROOT, { hash: hash(["s", SDS_ROOT, roots]), build: () => rootCaSecret(SDS_ROOT, roots) });
    secrets.set(SDS_CERTIFICATE, { hash: hash(["s", SDS_CERTIFICATE, o.sdsCertDir]), build: () => fileCertificateSecret(SDS_CERTIFICATE, o.sdsCertDir) });
    out.set(TYPE.secret, secrets);
  }
  return out;
}

interface HostOut {
  listeners: Array<[string, ResourceInput]>;
  routes: Array<[string, ResourceInput]>;
  clusters: Array<[string, ResourceInput]>;
  endpoints: Array<[string, ResourceInput]>;
  servers: Array<[string, { ip: string; port: number; strict: boolean }]>;
  vhost?: VirtualHost;
  problems: ConfigProblem[];
}

const hostMemo = new WeakMap<HostPort, Map<string, { stamp: number; o: TranslateOptions; out: HostOut }>>();

const reasonOf = (err: unknown) => (err instanceof ConfigError ? err.message : `translation failed: ${String((err as Error)?.message ?? err)}`);

/**
 * One host, isolated: whatever a configuration object makes the translation throw skips
 * that object (with its reason), never the host, the view or the mesh. Should the host
 * fail even without its configuration, it alone is left out.
 */
function isolatedHost(model: MeshModel, hp: HostPort, view: View, modeOf: (ns: string) => MtlsMode, o: TranslateOptions): HostOut {
  const { vs, dr } = model.configFor(hp.host);
  try {
    return translateHost(model, hp, view, modeOf, o, vs, dr);
  } catch (err) {
    const problems = [problemOf(vs ?? dr, `${hp.host}:${hp.port}: ${reasonOf(err)}`)];
    try {
      return { ...translateHost(model, hp, view, modeOf, o, undefined, undefined), problems };
    } catch (again) {
      return {
        listeners: [],
        routes: [],
        clusters: [],
        endpoints: [],
        servers: [],
        problems: [...problems, problemOf(undefined, `${hp.host}:${hp.port} left out: ${reasonOf(again)}`)],
      };
    }
  }
}

function translateHost(
  model: MeshModel,
  hp: HostPort,
  view: View,
  modeOf: (ns: string) => MtlsMode,
  o: TranslateOptions,
  vs: ConfigResource | undefined,
  drIn: ConfigResource | undefined,
): HostOut {
  const out: HostOut = { listeners: [], routes: [], clusters: [], endpoints: [], servers: [], problems: [] };
  const envoy = view.flavour === "envoy";
  const name = `${hp.host}:${hp.port}`;
  let dr = drIn;
  let hostRoutes: Route[];
  try {
    hostRoutes = routesFor(hp.host, hp.port, vs);
  } catch (err) {
    // A VirtualService that cannot be translated is skipped, with its reason; the host keeps default routing.
    out.problems.push(problemOf(vs, reasonOf(err)));
    hostRoutes = routesFor(hp.host, hp.port, undefined);
  }
  let policyAndSubsets: ReturnType<typeof destinationPolicy>;
  try {
    policyAndSubsets = destinationPolicy(dr);
  } catch (err) {
    // Likewise a DestinationRule: the host keeps default cluster policy.
    out.problems.push(problemOf(dr, reasonOf(err)));
    dr = undefined;
    policyAndSubsets = destinationPolicy(undefined);
  }
  if (envoy) {
    if (HTTP_PROTOCOLS.has(hp.protocol)) out.vhost = { name, domains: [hp.host, name], routes: hostRoutes };
  } else {
    out.listeners.push([name, { hash: hash(["l", name]), build: () => proxylessListener(name, name) }]);
    const domains = [name, hp.host];
    out.routes.push([name, { hash: hash(["r", name, domains, hostRoutes]), build: () => routeConfiguration(name, domains, hostRoutes) }]);
    const strict = modeOf(hp.namespace) === "STRICT";
    for (const e of hp.endpoints) out.servers.push([grpcServerListenerName(e.address, e.targetPort), { ip: e.address, port: e.targetPort, strict }]);
  }
  const { policy, subsets } = policyAndSubsets;
  const mtls = clientMtls(dr, modeOf(hp.namespace));
  const spiffeIds = mtls
    ? [...new Set(hp.endpoints.filter((e) => e.serviceAccount).map((e) => `spiffe://${o.trustDomain}/ns/${hp.namespace}/sa/${e.serviceAccount}`))].sort()
    : [];
  // The default cluster with every endpoint, and one per DestinationRule subset.
  for (const c of [{ name: "", labels: {} as Record<string, string>, policy }, ...subsets]) {
    const cluster = outboundCluster(hp.port, hp.host, c.name);
    const tlsInput = mtls ? { spiffeIds, sni: envoy ? outboundSni(hp.port, hp.host, c.name) : undefined } : undefined;
    out.clusters.push([
      cluster,
      {
        hash: hash(["c", view.flavour, cluster, c.policy, tlsInput, o.trustDomain]),
        build: () =>
          edsCluster(cluster, {
            ...c.policy,
            ...(tlsInput
              ? { tls: upstreamMtls({ flavour: view.flavour, spiffeIds, trustDomain: o.trustDomain, ...(tlsInput.sni ? { sni: tlsInput.sni } : {}) }) }
              : {}),
          }),
      },
    ]);
    const localities = localitiesOf(hp, c.labels, view.network, model.gateways);
    out.endpoints.push([cluster, { hash: hash(["e", cluster, localities]), build: () => clusterLoadAssignment(cluster, localities) }]);
  }
  return out;
}

/**
 * Endpoints grouped by locality. An endpoint on another network than the proxies' is not
 * reachable directly: like Istio, it is replaced by its network's east-west gateway,
 * weighted by how many endpoints the gateway stands for, or dropped when the network has no
 * gateway. A view without a network sees every endpoint as it is.
 */
export function localitiesOf(
  hp: HostPort,
  labels: Record<string, string>,
  network = "",
  gateways: ReadonlyMap<string, Array<{ address: string; port: number }>> = new Map(),
): LocalityEndpoints[] {
  const byLocality = new Map<string, { locality: LocalityEndpoints["locality"]; endpoints: Map<string, LocalityEndpoints["endpoints"][number]> }>();
  for (const e of hp.endpoints) {
    if (!e.serving) continue;
    if (!Object.entries(labels).every(([k, v]) => e.labels[k] === v)) continue;
    let address = e.address;
    let port = e.targetPort;
    if (network && e.network && e.network !== network) {
      const gw = gateways.get(e.network)?.[0];
      if (!gw) continue;
      address = gw.address;
      port = gw.port;
    }
    const k = `${e.locality.region}/${e.locality.zone}/${e.locality.subzone}`;
    let l = byLocality.get(k);
    if (!l) {
      l = { locality: e.locality, endpoints: new Map() };
      byLocality.set(k, l);
    }
    const ek = `${address}|${port}`;
    const seen = l.endpoints.get(ek);
    if (seen) {
      seen.weight = (seen.weight ?? 1) + 1;
      seen.healthy ||= e.ready;
    } else l.endpoints.set(ek, { address, port, healthy: e.ready });
  }
  return [...byLocality.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, l]) => ({
      locality: l.locality,
      endpoints: [...l.endpoints.values()].sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1)),
    }));
}
