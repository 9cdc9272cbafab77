import { useMemo } from "preact/hooks";
import { sumCounts, type TopologyCluster, topology } from "../../domain/views.js";
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

export function TopologyView(props: { v: number }) {
  const regions = useMemo(() => topology(store.entities.values()), [props.v]);
  const samples = store.samples;
  return (
    <div>
      <div class="charts">
        <Sparkline label="connected proxies" values={samples.map((s) => s.connectedProxies)} />
        <Sparkline label="events per sample" values={samples.map((s) => s.events)} />
      </div>
      {regions.length === 0 && <p class="muted">No cluster has reported yet.</p>}
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
