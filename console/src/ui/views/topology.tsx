import { useMemo } from "preact/hooks";
import { sumCounts, type TopologyCluster, type TopologyRegion, topology } from "../../domain/views.js";
import type { Counts } from "../../domain/wire.js";
import { Sparkline } from "../charts.js";
import { ago, store } from "../store.js";

export function CountCells(props: { c: Counts }) {
  return (
    <>
      <td class="num ready" data-testid="ready">
        {props.c.ready}
      </td>
      <td class={`num ${props.c.notReady ? "warn" : "muted"}`} data-testid="not-ready">
        {props.c.notReady}
      </td>
      <td class={`num ${props.c.terminating ? "warn" : "muted"}`} data-testid="terminating">
        {props.c.terminating}
      </td>
    </>
  );
}

const MODE_LABEL: Record<string, string> = { managed: "managed", "discovery-only": "discovery-only", "remote-control-plane": "remote control plane" };

function ClusterCard(props: { c: TopologyCluster }) {
  const { c } = props;
  const st = c.cluster;
  const total = sumCounts(c.services.map((s) => s.counts));
  const shown = c.services.slice(0, 50);
  return (
    <section class="card cluster" data-testid={`cluster-${c.id}`}>
      <header>
        <h3>{c.id}</h3>
        <span class={`badge mode-${st?.mode ?? "unknown"}`} data-testid="mode">
          {st ? MODE_LABEL[st.mode] : "no status"}
        </span>
        {st && (
          <span class={`badge state-${st.state.toLowerCase()}`} data-testid="state" title={st.lastError ?? ""}>
            {st.state} <span class="muted">since {ago(st.since)}</span>
          </span>
        )}
      </header>
      {st?.mode === "remote-control-plane" && <p class="muted">served by its own control plane over a NATS leaf link; link state: {st.state}</p>}
      {st?.lastError && <p class="error">{st.lastError}</p>}
      <table class="services">
        <thead>
          <tr>
            <th>service</th>
            <th>namespace</th>
            <th class="num" title="ready">
              ready
            </th>
            <th class="num" title="not ready">
              not ready
            </th>
            <th class="num" title="terminating">
              term.
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((s) => (
            <tr key={s.key} data-testid={`service-${s.name}`} class={s.stale ? "stale" : ""}>
              <td>
                <a href={`#/traffic/${encodeURIComponent(s.hostname)}`}>{s.name}</a>
                {s.stale && <span class="badge warn"> stale</span>}
              </td>
              <td>{s.namespace}</td>
              <CountCells c={s.counts} />
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <td colSpan={2}>
              {c.services.length} service{c.services.length === 1 ? "" : "s"}
              {c.services.length > shown.length ? ` (first ${shown.length} shown)` : ""}
            </td>
            <CountCells c={total} />
          </tr>
        </tfoot>
      </table>
    </section>
  );
}

/** The mesh drawn: a box per network with its clusters, its east-west gateway, and the gateways linked across networks. */
function TopologyMap(props: { regions: TopologyRegion[] }) {
  const nets = props.regions.flatMap((r) => r.networks.map((n) => ({ ...n, region: r.region })));
  if (!nets.length) return null;
  const colW = 250;
  const boxW = 210;
  const rowH = 46;
  const rows = Math.max(1, ...nets.map((n) => Math.min(n.clusters.length, 6)));
  const height = 40 + rows * rowH + 60;
  const gwY = height - 26;
  return (
    <svg class="topo" width={nets.length * colW + 20} height={height} data-testid="topology-map" role="img">
      <title>mesh topology</title>
      {nets.map((n, i) =>
        nets.slice(i + 1).map((m, j) => {
          const x1 = 20 + i * colW + boxW / 2;
          const x2 = 20 + (i + 1 + j) * colW + boxW / 2;
          const linked = n.gateways.length > 0 && m.gateways.length > 0;
          return (
            <path
              key={`${n.network}-${m.network}`}
              class={linked ? "ew" : "ew missing"}
              d={`M${x1},${gwY} C${x1},${gwY + 22} ${x2},${gwY + 22} ${x2},${gwY}`}
              fill="none"
            />
          );
        }),
      )}
      {nets.map((n, i) => {
        const x = 10 + i * colW;
        return (
          <g key={`${n.region}/${n.network}`} class="net">
            <rect x={x} y={4} width={boxW + 20} height={height - 30} rx="8" />
            <text x={x + 10} y={22} class="title">
              {n.network || "(default network)"} · {n.region || "no region"}
            </text>
            {n.clusters.slice(0, 6).map((c, k) => {
              const st = c.cluster?.state ?? "unknown";
              return (
                <g key={c.id} class={`cl topo-${st.toLowerCase()} topo-${c.cluster?.mode ?? "unknown"}`} transform={`translate(${x + 10},${34 + k * rowH})`}>
                  <rect width={boxW} height={rowH - 8} rx="5" />
                  <text x="8" y="16">
                    {c.id} · {c.cluster?.mode ?? "no status"}
                  </text>
                  <text x="8" y="31" class="sub">
                    {st} · {c.services.length} service{c.services.length === 1 ? "" : "s"} · {sumCounts(c.services.map((s) => s.counts)).ready} ready endpoints
                  </text>
                </g>
              );
            })}
            <g class={n.gateways.length ? "gw" : "gw missing"} transform={`translate(${x + 10 + boxW / 2},${gwY})`}>
              <circle r="7" />
              <text y="-12" text-anchor="middle">
                {n.gateways.length ? `gateway ${n.gateways[0]?.addresses[0]?.address ?? ""}` : "no east-west gateway"}
              </text>
            </g>
          </g>
        );
      })}
    </svg>
  );
}

export function TopologyView(props: { v: number }) {
  const regions = useMemo(() => topology(store.entities.values()), [props.v]);
  const samples = store.samples;
  return (
    <div>
      <div class="charts">
        <Sparkline label="connected proxies" values={samples.map((s) => s.connectedProxies)} />
        <Sparkline label="events per 10 s" values={samples.map((s) => s.events)} />
        <Sparkline label="push convergence, slowest (ms)" values={samples.map((s) => s.pushMs ?? 0)} />
      </div>
      {regions.length === 0 && <p class="muted">No cluster has reported yet.</p>}
      <TopologyMap regions={regions} />
      {regions.map((r) => (
        <section key={r.region} class="region">
          <h2>
            mesh {store.mesh} · region {r.region || "(none)"}
          </h2>
          <div class="networks">
            {r.networks.map((n) => (
              <section key={n.network} class="network" data-testid={`network-${n.network}`}>
                <header>
                  <h3>network {n.network || "(default)"}</h3>
                  <span class="muted">
                    east-west gateway: {n.gateways.length ? n.gateways.flatMap((g) => g.addresses.map((a) => `${a.address}:${a.port}`)).join(", ") : "none"}
                  </span>
                </header>
                <div class="clusters">
                  {n.clusters.map((c) => (
                    <ClusterCard key={c.id} c={c} />
                  ))}
                </div>
              </section>
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
