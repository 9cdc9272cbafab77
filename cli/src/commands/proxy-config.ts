/** `isthmus proxy-config <kind> <proxy-id>`: what config-push serves a proxy, like `istioctl proxy-config`. */
export type ConfigKind = "cluster" | "listener" | "route" | "endpoint" | "secret" | "all";

interface Dump {
  configs: Array<Record<string, unknown> & { "@type": string }>;
}

type Row = string[];

const DUMP_OF: Record<Exclude<ConfigKind, "all">, [string, string]> = {
  cluster: ["ClustersConfigDump", "dynamic_active_clusters"],
  listener: ["ListenersConfigDump", "dynamic_listeners"],
  route: ["RoutesConfigDump", "dynamic_route_configs"],
  endpoint: ["EndpointsConfigDump", "dynamic_endpoint_configs"],
  secret: ["SecretsConfigDump", "dynamic_active_secrets"],
};

function entries(d: Dump, kind: Exclude<ConfigKind, "all">): Array<Record<string, unknown>> {
  const [type, field] = DUMP_OF[kind];
  return (d.configs.find((c) => c["@type"].endsWith(type))?.[field] as Array<Record<string, unknown>> | undefined) ?? [];
}

function rows(d: Dump, kind: Exclude<ConfigKind, "all">): { header: Row; rows: Row[] } {
  const list = entries(d, kind);
  switch (kind) {
    case "cluster":
      return {
        header: ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE"],
        rows: list.map((e) => {
          const c = e.cluster as { name: string; type?: string };
          const [direction, port, subset, host] = c.name.split("|");
          return c.name.includes("|") ? [host || "-", port ?? "-", subset || "-", direction ?? "-", c.type ?? "EDS"] : [c.name, "-", "-", "-", c.type ?? "EDS"];
        }),
      };
    case "listener":
      return {
        header: ["NAME", "ADDRESS", "PORT", "TYPE"],
        rows: list.map((e) => {
          const l = (
            e.active_state as { listener: { name: string; address?: { socket_address?: { address?: string; port_value?: number } }; api_listener?: unknown } }
          ).listener;
          const sa = l.address?.socket_address;
          return [l.name, sa?.address ?? "-", String(sa?.port_value ?? "-"), l.api_listener ? "API" : "TCP/HTTP"];
        }),
      };
    case "route":
      return {
        header: ["NAME", "VIRTUAL HOSTS", "ROUTES"],
        rows: list.map((e) => {
          const r = e.route_config as { name: string; virtual_hosts?: Array<{ routes?: unknown[] }> };
          return [r.name, String(r.virtual_hosts?.length ?? 0), String((r.virtual_hosts ?? []).reduce((n, v) => n + (v.routes?.length ?? 0), 0))];
        }),
      };
    case "endpoint":
      return {
        header: ["ENDPOINT", "STATUS", "WEIGHT", "CLUSTER"],
        rows: list.flatMap((e) => {
          const c = e.endpoint_config as {
            cluster_name: string;
            endpoints?: Array<{
              lb_endpoints?: Array<{
                endpoint: { address: { socket_address: { address: string; port_value: number } } };
                health_status?: string;
                load_balancing_weight?: { value: number };
              }>;
            }>;
          };
          return (c.endpoints ?? []).flatMap((l) =>
            (l.lb_endpoints ?? []).map((x) => [
              `${x.endpoint.address.socket_address.address}:${x.endpoint.address.socket_address.port_value}`,
              x.health_status ?? "UNKNOWN",
              String(x.load_balancing_weight?.value ?? 1),
              c.cluster_name,
            ]),
          );
        }),
      };
    case "secret":
      return {
        header: ["RESOURCE NAME", "TYPE", "SOURCE"],
        rows: list.map((e) => {
          const s = e.secret as { name: string; tls_certificate?: { certificate_chain?: { filename?: string } }; validation_context?: unknown };
          return s.tls_certificate
            ? [s.name, "Cert Chain", s.tls_certificate.certificate_chain?.filename ?? "inline"]
            : [s.name, s.validation_context ? "CA" : "-", "inline"];
        }),
      };
  }
}

/** Columns padded to their widest cell, three spaces apart. */
export function table(t: { header: Row; rows: Row[] }): string[] {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? "").length)));
  const line = (r: Row) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("   ")
      .trimEnd();
  return [line(t.header), ...t.rows.map(line)];
}

export async function proxyConfig(
  o: { kind: ConfigKind; proxy: string; url: string; output?: "table" | "json" },
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<void> {
  const res = await fetch(`${o.url.replace(/\/$/, "")}/debug/config_dump?proxyID=${encodeURIComponent(o.proxy)}`);
  const body = (await res.json()) as Dump & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `config-push answered ${res.status}`);
  const kinds = o.kind === "all" ? (Object.keys(DUMP_OF) as Array<Exclude<ConfigKind, "all">>) : [o.kind];
  if (o.output === "json") {
    out(JSON.stringify(o.kind === "all" ? body : entries(body, o.kind as Exclude<ConfigKind, "all">), null, 2));
    return;
  }
  for (const k of kinds) {
    if (kinds.length > 1) out(`\n${k.toUpperCase()}S`);
    for (const l of table(rows(body, k))) out(l);
  }
}
