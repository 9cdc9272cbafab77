import { TYPE } from "@isthmus/xds";
import { describe, expect, it } from "vitest";
import { MeshModel, type ServiceState, type View } from "../src/index.js";
import { translated } from "./envoy-config.js";

// Istio config in, Envoy listeners out, for TCP and TLS services: tcp_proxy to Istio's
// `outbound|<port>||<host>`, tcp routes with weights, tls routes by SNI (passthrough),
// inbound TCP chains, PassthroughCluster / BlackHoleCluster per outboundTrafficPolicy.
type Obj = Record<string, unknown>;
const ns = "default";
const fq = (n: string) => `${n}.${ns}.svc.cluster.local`;

function service(name: string, ports: ServiceState["ports"], ips: string[], labels: Record<string, string> = {}): ServiceState {
  return {
    cluster: "c1",
    namespace: ns,
    name,
    hostname: fq(name),
    ports,
    endpoints: ips.map((address, i) => ({
      address,
      ports: {},
      ready: true,
      serving: true,
      terminating: false,
      cluster: "c1",
      network: "",
      locality: { region: "r", zone: "z", subzone: "" },
      labels: { app: name, version: i % 2 ? "v2" : "v1", ...labels },
      pod: `${name}-${i}`,
    })),
    stale: false,
  };
}

function mesh(services: ServiceState[], configs: Array<{ kind: string; spec: Obj; namespace?: string }> = []): MeshModel {
  const m = new MeshModel();
  for (const s of services) m.upsert(s.name, s);
  for (const [i, c] of configs.entries()) m.upsertConfig(`c${i}`, { kind: c.kind, namespace: c.namespace ?? ns, name: `c${i}`, spec: c.spec });
  return m;
}

const SIDECAR: View = { flavour: "envoy", network: "", inbound: [] };
const db = service("db", [{ name: "tcp", port: 5432, protocol: "TCP" }], ["10.0.0.1", "10.0.0.2"]);
const cache = service("cache", [{ name: "redis", port: 5432, protocol: "REDIS" }], ["10.0.1.1"]);
const tcpProxy = (clusters: Obj) => ({
  name: "envoy.filters.network.tcp_proxy",
  typed_config: { "@type": "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", ...clusters },
});
const chains = (l: Obj) => l.filter_chains as Obj[];

describe("TCP services for Envoy sidecars", () => {
  it("one TCP service on a port: 0.0.0.0_<port> sends everything through tcp_proxy to outbound|<port>||<host>", () => {
    const t = translated(mesh([db]), SIDECAR);
    const l = t.get(TYPE.listener, "0.0.0.0_5432");
    expect(l).toMatchObject({ name: "0.0.0.0_5432", traffic_direction: "OUTBOUND", bind_to_port: { value: false } });
    expect(chains(l)).toEqual([
      { name: `outbound|5432||${fq("db")}`, filters: [tcpProxy({ stat_prefix: `outbound|5432||${fq("db")}`, cluster: `outbound|5432||${fq("db")}` })] },
    ]);
    expect(l.default_filter_chain).toBeUndefined();
    expect(t.names(TYPE.cluster)).toContain(`outbound|5432||${fq("db")}`);
    expect(t.names(TYPE.route)).not.toContain("5432");
  });

  it("several on one port are told apart by their endpoints' addresses, the rest passes through", () => {
    const l = translated(mesh([db, cache]), SIDECAR).get(TYPE.listener, "0.0.0.0_5432");
    const cidr = (ip: string) => ({ address_prefix: ip, prefix_len: { value: 32 } });
    expect(chains(l).map((c) => [c.name, (c.filter_chain_match as Obj | undefined)?.prefix_ranges])).toEqual([
      [`outbound|5432||${fq("cache")}`, [cidr("10.0.1.1")]],
      [`outbound|5432||${fq("db")}`, [cidr("10.0.0.1"), cidr("10.0.0.2")]],
    ]);
    expect(l.default_filter_chain).toEqual({
      name: "PassthroughCluster",
      filters: [tcpProxy({ stat_prefix: "PassthroughCluster", cluster: "PassthroughCluster" })],
    });
  });

  it("a VirtualService tcp route splits by weight across subsets", () => {
    const t = translated(
      mesh(
        [db],
        [
          {
            kind: "DestinationRule",
            spec: {
              host: "db",
              subsets: [
                { name: "v1", labels: { version: "v1" } },
                { name: "v2", labels: { version: "v2" } },
              ],
            },
          },
          {
            kind: "VirtualService",
            spec: {
              hosts: ["db"],
              tcp: [
                { match: [{ port: 9999 }], route: [{ destination: { host: "db", subset: "v2" } }] },
                {
                  match: [{ port: 5432 }],
                  route: [
                    { destination: { host: "db", subset: "v1" }, weight: 80 },
                    { destination: { host: "db", subset: "v2" }, weight: 20 },
                  ],
                },
              ],
            },
          },
        ],
      ),
      SIDECAR,
    );
    expect(chains(t.get(TYPE.listener, "0.0.0.0_5432"))[0]?.filters).toEqual([
      tcpProxy({
        stat_prefix: `outbound|5432|v1|${fq("db")}`,
        weighted_clusters: {
          clusters: [
            { name: `outbound|5432|v1|${fq("db")}`, weight: 80 },
            { name: `outbound|5432|v2|${fq("db")}`, weight: 20 },
          ],
        },
      }),
    ]);
  });

  it("a tls route matches SNI (passthrough, TLS inspector), and leaves the host's HTTP routes alone", () => {
    const web = service(
      "web",
      [
        { name: "http", port: 8080, protocol: "HTTP" },
        { name: "https", port: 8443, protocol: "TLS" },
      ],
      ["10.0.2.1"],
    );
    const t = translated(
      mesh(
        [web],
        [
          {
            kind: "VirtualService",
            spec: {
              hosts: ["web"],
              tls: [{ match: [{ port: 8443, sniHosts: ["web.example.com", fq("web")] }], route: [{ destination: { host: "web", port: { number: 8443 } } }] }],
            },
          },
        ],
      ),
      SIDECAR,
    );
    const l = t.get(TYPE.listener, "0.0.0.0_8443");
    expect(l.listener_filters).toEqual([
      { name: "envoy.filters.listener.tls_inspector", typed_config: { "@type": "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" } },
    ]);
    const cluster = `outbound|8443||${fq("web")}`;
    expect(chains(l)).toEqual([
      {
        name: `${cluster}|sni|web.example.com,${fq("web")}`,
        filter_chain_match: { server_names: ["web.example.com", fq("web")], transport_protocol: "tls" },
        filters: [tcpProxy({ stat_prefix: cluster, cluster })],
      },
      { name: cluster, filters: [tcpProxy({ stat_prefix: cluster, cluster })] },
    ]);
    // The tls-only VirtualService does not take the host's HTTP port away (it used to leave it with no routes).
    const rc = t.get(TYPE.route, "8080") as { virtual_hosts: Array<{ routes: Array<{ route: { cluster: string } }> }> };
    expect(rc.virtual_hosts[0]?.routes.map((r) => r.route.cluster)).toEqual([`outbound|8080||${fq("web")}`]);
  });

  it("HTTP and TCP services on one port: TCP by address, HTTP as the catch-all", () => {
    const api = service("api", [{ name: "http", port: 5432, protocol: "HTTP" }], ["10.0.3.1"]);
    const l = translated(mesh([db, api]), SIDECAR).get(TYPE.listener, "0.0.0.0_5432");
    expect(chains(l).map((c) => [c.name, Boolean(c.filter_chain_match), ((c.filters as Obj[])[0]?.typed_config as Obj | undefined)?.["@type"]])).toEqual([
      [`outbound|5432||${fq("db")}`, true, "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"],
      ["0.0.0.0_5432_http", false, "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"],
    ]);
    expect(l.default_filter_chain).toBeUndefined();
  });

  it("REGISTRY_ONLY sends unknown destinations to the BlackHoleCluster; ALLOW_ANY (default) to the PassthroughCluster", () => {
    const vo = (m: MeshModel) => chains(translated(m, SIDECAR).get(TYPE.listener, "virtualOutbound"));
    expect(vo(mesh([db]))).toEqual([
      { name: "PassthroughFilterChain", filters: [tcpProxy({ stat_prefix: "PassthroughCluster", cluster: "PassthroughCluster" })] },
    ]);
    const closed = mesh([db, cache], [{ kind: "Sidecar", namespace: "istio-system", spec: { outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } } }]);
    expect(vo(closed)).toEqual([{ name: "BlackHoleFilterChain", filters: [tcpProxy({ stat_prefix: "BlackHoleCluster", cluster: "BlackHoleCluster" })] }]);
    const t = translated(closed, SIDECAR);
    expect(t.get(TYPE.listener, "0.0.0.0_5432").default_filter_chain).toMatchObject({ name: "BlackHoleCluster" });
    expect(t.get(TYPE.cluster, "BlackHoleCluster")).toEqual({ name: "BlackHoleCluster", type: "STATIC", connect_timeout: { seconds: "10" } });
  });

  it("inbound: a TCP port of the sidecar's own workload gets a tcp_proxy chain to inbound|<port>||, mTLS when STRICT", () => {
    const view: View = { flavour: "envoy", network: "", inbound: [{ port: 5432, protocol: "TCP", namespace: ns }] };
    const m = mesh([db], [{ kind: "PeerAuthentication", spec: { mtls: { mode: "STRICT" } } }]);
    // Without roots, ROOTCA would be asked for over SDS and not served: Envoy would keep the listener warming.
    m.trustBundles.set("cluster.local", ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"]);
    const t = translated(m, view);
    const chain = chains(t.get(TYPE.listener, "virtualInbound"))[0] as Obj;
    expect(chain.filter_chain_match).toEqual({ destination_port: { value: 5432 } });
    expect(chain.filters).toEqual([tcpProxy({ stat_prefix: "inbound|5432||", cluster: "inbound|5432||" })]);
    expect(((chain.transport_socket as Obj).typed_config as Obj)["@type"]).toBe("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
  });

  it("says which tcp/tls matches it cannot honour, and skips them", () => {
    const t = translated(
      mesh(
        [db],
        [
          {
            kind: "VirtualService",
            spec: {
              hosts: ["db"],
              tcp: [{ match: [{ sourceLabels: { app: "x" } }], route: [{ destination: { host: "db", subset: "v2" } }] }],
              tls: [{ match: [{ port: 5432 }], route: [{ destination: { host: "db" } }] }],
            },
          },
        ],
      ),
      SIDECAR,
    );
    expect(t.problems).toEqual([
      { resource: "VirtualService default/c0 tls[0]", reason: "a tls match needs sniHosts; that match is skipped" },
      { resource: "VirtualService default/c0 tcp[0]", reason: "match sourceLabels is not supported; that match is skipped" },
    ]);
    expect(chains(t.get(TYPE.listener, "0.0.0.0_5432"))[0]?.name).toBe(`outbound|5432||${fq("db")}`);
  });
});
