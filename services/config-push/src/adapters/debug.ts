import type { IncomingMessage, ServerResponse } from "node:http";
import { fromAny, type SnapshotCache, TYPE, type TypeUrl, typeDescriptor } from "@isthmus/xds";
import { syncState } from "../domain/sync-state.js";
import type { AdsServer } from "./ads-server.js";

type Conn = {
  id: string;
  connId: string;
  connectedAt: Date;
  cache: SnapshotCache;
  types: Map<string, { sent?: string; acked?: string; nacked?: string; error?: string }>;
};

function connections(ads: AdsServer): Array<Conn & { info: { flavour: string; network: string; namespace?: string } }> {
  return [...ads.streams()];
}

/** Nested google.protobuf.Any values decoded too, with Envoy's "@type" key, as Envoy's admin config_dump shows them. */
function readable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(readable);
  if (Buffer.isBuffer(v)) return v.toString("base64");
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.type_url === "string" && Buffer.isBuffer(o.value)) {
      try {
        return { "@type": o.type_url, ...(readable(fromAny({ type_url: o.type_url, value: o.value })) as object) };
      } catch {
        return { "@type": o.type_url };
      }
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, readable(x)]));
  }
  return v;
}

/** Istio-style sync status of every proxy connected to this replica. */
export function syncz(ads: AdsServer, instance: string): unknown[] {
  return connections(ads).map((p) => ({
    proxyId: p.id,
    connectionId: p.connId,
    instance,
    flavour: p.info.flavour,
    network: p.info.network,
    connectedSince: p.connectedAt.toISOString(),
    types: Object.fromEntries(
      [...p.types].map(([type, st]) => {
        const latest = p.cache.version(type as TypeUrl);
        return [
          typeDescriptor(type)?.short ?? type,
          {
            state: syncState({ ...st, latest }),
            latest,
            ...(st.sent ? { sent: st.sent } : {}),
            ...(st.acked ? { acked: st.acked } : {}),
            ...(st.error ? { error: st.error } : {}),
          },
        ];
      }),
    ),
  }));
}

/**
 * What a proxy is configured with, in the shape of Envoy's /config_dump: the resources of its
 * view it subscribes to, with the versions it was sent and acknowledged.
 */
export function configDump(ads: AdsServer, proxyId: string): unknown | undefined {
  const p = connections(ads).find((c) => c.id === proxyId);
  if (!p) return undefined;
  const of = (type: TypeUrl) => {
    const st = p.types.get(type) as { names?: Set<string> | "*"; wildcard?: boolean; sent?: string; acked?: string } | undefined;
    if (!st) return [];
    const all = st.names === "*" || st.wildcard === true || st.names === undefined;
    return p.cache
      .get(type, all ? undefined : (st.names as Set<string>))
      .map((r) => ({ name: r.name, version_info: st.acked ?? "", resource: readable(fromAny(r.any)) }));
  };
  return {
    proxyId: p.id,
    configs: [
      {
        "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        dynamic_listeners: of(TYPE.listener).map((r) => ({ name: r.name, active_state: { version_info: r.version_info, listener: r.resource } })),
      },
      {
        "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
        dynamic_active_clusters: of(TYPE.cluster).map((r) => ({ version_info: r.version_info, cluster: r.resource })),
      },
      {
        "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
        dynamic_route_configs: of(TYPE.route).map((r) => ({ version_info: r.version_info, route_config: r.resource })),
      },
      {
        "@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
        dynamic_endpoint_configs: of(TYPE.endpoint).map((r) => ({ version_info: r.version_info, endpoint_config: r.resource })),
      },
      {
        "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
        dynamic_active_secrets: of(TYPE.secret).map((r) => ({ name: r.name, version_info: r.version_info, secret: r.resource })),
      },
    ],
  };
}

/** HTTP handlers: GET /debug/syncz, GET /debug/config_dump?proxyID=<node id>. */
export function debugRoutes(ads: AdsServer, instance: string): Record<string, (req: IncomingMessage, res: ServerResponse) => void> {
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body, null, 1)}\n`);
  return {
    "/debug/syncz": (_req, res) => json(res, 200, syncz(ads, instance)),
    "/debug/config_dump": (req, res) => {
      const id = new URL(req.url ?? "/", "http://x").searchParams.get("proxyID");
      if (!id) return json(res, 400, { error: "proxyID query parameter required" });
      const dump = configDump(ads, id);
      if (!dump) return json(res, 404, { error: `proxy ${id} is not connected to ${instance}` });
      json(res, 200, dump);
    },
  };
}
