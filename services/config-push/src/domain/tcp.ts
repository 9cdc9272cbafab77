import { type FallbackCluster, outboundCluster, type TcpChain } from "@isthmus/xds";
import type { HostPort } from "./mesh-model.js";
import { type ConfigResource, fqdn } from "./traffic.js";

/*
 * TCP and TLS for Envoy sidecars: a VirtualService's `tcp` and `tls` routes (or the host's
 * default cluster) as tcp_proxy filter chains of the port's outbound listener, and the
 * mesh's outboundTrafficPolicy. Service states carry no cluster IP, so destinations are
 * told apart the way Istio does it for services without one: a port with a single TCP
 * service sends it everything; several are matched by their endpoints' addresses; TLS
 * routes by SNI.
 */

interface L4Destination {
  destination: { host: string; subset?: string; port?: { number?: number } };
  weight?: number;
}
interface L4Match {
  port?: number;
  sniHosts?: string[];
  destinationSubnets?: string[];
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
}
interface L4Route {
  match?: L4Match[];
  route?: L4Destination[];
}

/** What a TCP/TLS host:port contributes to its port's listener. */
export interface TcpHost {
  /** The host's own chain when no SNI route applies: the default cluster or the VirtualService's tcp route. */
  plain?: Omit<TcpChain, "destinations">;
  /** SNI-matched chains from `tls` routes. */
  sni: TcpChain[];
  /** Addresses that identify the host's traffic when it shares the port. */
  addresses: string[];
  problems: Array<{ resource: string; reason: string }>;
}

const HONOURED_MATCH = new Set(["port", "sniHosts", "gateways"]);

function destinations(route: L4Destination[], port: number, namespace: string): Array<{ name: string; weight: number }> {
  return route.map((r) => ({
    name: outboundCluster(r.destination.port?.number ?? port, fqdn(r.destination.host, namespace), r.destination.subset ?? ""),
    weight: r.weight ?? (route.length === 1 ? 100 : 0),
  }));
}

/**
 * The matches of one route that apply to this port: an entry applies when its `port` is
 * unset or this one; fields that are not honoured (destinationSubnets, sourceLabels,
 * sourceNamespace, gateways other than `mesh`) make the entry skipped, with a problem.
 */
function applicable(matches: L4Match[] | undefined, port: number, where: string, problems: TcpHost["problems"]): L4Match[] {
  if (!matches?.length) return [{}];
  return matches.filter((m) => {
    const unsupported = Object.keys(m).filter((k) => !HONOURED_MATCH.has(k));
    const gateways = (m.gateways ?? []).filter((g) => g !== "mesh");
    if (unsupported.length || gateways.length) {
      problems.push({
        resource: where,
        reason: `match ${[...unsupported, ...(gateways.length ? ["gateways"] : [])].join(", ")} is not supported; that match is skipped`,
      });
      return false;
    }
    return m.port === undefined || m.port === port;
  });
}

export function tcpHost(hp: HostPort, vs: ConfigResource | undefined): TcpHost {
  const out: TcpHost = { sni: [], addresses: [...new Set(hp.endpoints.filter((e) => e.serving).map((e) => e.address))].sort(), problems: [] };
  const fallback = { name: outboundCluster(hp.port, hp.host), clusters: [{ name: outboundCluster(hp.port, hp.host), weight: 100 }] };
  if (!vs) {
    out.plain = fallback;
    return out;
  }
  const where = `VirtualService ${vs.namespace}/${vs.name}`;
  for (const [i, r] of ((vs.spec.tls as L4Route[] | undefined) ?? []).entries()) {
    const dests = destinations(r.route ?? [], hp.port, vs.namespace);
    if (!dests.length) continue;
    for (const m of applicable(r.match, hp.port, `${where} tls[${i}]`, out.problems)) {
      const serverNames = (m.sniHosts ?? []).filter((h) => !out.sni.some((c) => c.serverNames?.includes(h)));
      if (!m.sniHosts?.length) out.problems.push({ resource: `${where} tls[${i}]`, reason: "a tls match needs sniHosts; that match is skipped" });
      else if (serverNames.length) out.sni.push({ name: `${dests[0]?.name}|sni|${serverNames.join(",")}`, serverNames, clusters: dests });
    }
  }
  for (const [i, r] of ((vs.spec.tcp as L4Route[] | undefined) ?? []).entries()) {
    const dests = destinations(r.route ?? [], hp.port, vs.namespace);
    if (!dests.length) continue;
    if (applicable(r.match, hp.port, `${where} tcp[${i}]`, out.problems).length) {
      out.plain = { name: dests[0]?.name ?? fallback.name, clusters: dests };
      break;
    }
  }
  // A VirtualService with only tls routes leaves the rest of the host's traffic on its default cluster.
  out.plain ??= fallback;
  return out;
}

/**
 * The tcp_proxy chains of one port from its TCP hosts: SNI chains first; one host alone
 * on a port without HTTP takes all its traffic; otherwise each host is matched by its
 * endpoints' addresses (a host without endpoints has no chain: nothing could reach it).
 */
export function tcpChains(hosts: TcpHost[], http: boolean): TcpChain[] {
  const chains: TcpChain[] = [];
  const seenSni = new Set<string>();
  for (const h of hosts)
    for (const c of h.sni) {
      const names = (c.serverNames ?? []).filter((n) => !seenSni.has(n));
      for (const n of names) seenSni.add(n);
      if (names.length) chains.push({ ...c, serverNames: names });
    }
  const plain = hosts.filter((h) => h.plain);
  if (plain.length === 1 && !http) chains.push({ ...(plain[0]?.plain as TcpChain) });
  else {
    const claimed = new Set<string>();
    for (const h of plain) {
      const own = h.addresses.filter((a) => !claimed.has(a));
      for (const a of own) claimed.add(a);
      if (own.length) chains.push({ ...(h.plain as TcpChain), destinations: own });
    }
  }
  return chains;
}

/**
 * Istio's outboundTrafficPolicy, from the mesh-wide Sidecar (istio-system, no workload
 * selector): ALLOW_ANY (the default) passes unknown destinations through, REGISTRY_ONLY
 * sends them to the BlackHoleCluster.
 */
export function fallbackCluster(configs: Iterable<ConfigResource>, rootNamespace = "istio-system"): FallbackCluster {
  for (const c of configs) {
    if (c.kind !== "Sidecar" || c.namespace !== rootNamespace || c.spec.workloadSelector) continue;
    const mode = (c.spec.outboundTrafficPolicy as { mode?: string } | undefined)?.mode;
    if (mode === "REGISTRY_ONLY") return "BlackHoleCluster";
  }
  return "PassthroughCluster";
}
