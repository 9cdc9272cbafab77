import { useEffect, useMemo, useState } from "preact/hooks";
import { type ProxyEntity, type ProxyFilter, proxyRows, SYNC_ORDER } from "../../domain/views.js";
import type { SyncWord } from "../../domain/wire.js";
import { ago, store } from "../store.js";

const COLUMNS = ["CDS", "LDS", "EDS", "RDS"];
const LIMIT = 200;

function State(props: { s: SyncWord; title?: string }) {
  return (
    <span class={`sync sync-${props.s.replace(" ", "-").toLowerCase()}`} title={props.title}>
      {props.s}
    </span>
  );
}

function ProxyDetail(props: { id: string }) {
  const p = [...store.entities.values()].find((e): e is ProxyEntity => e.kind === "proxy" && e.proxyId === props.id);
  const [dump, setDump] = useState<string>("");
  useEffect(() => setDump(""), [props.id]);
  if (!p) return <p class="muted">No status for proxy {props.id}.</p>;
  const load = async () => {
    setDump("loading…");
    const r = await fetch(`./api/proxy-config?proxyID=${encodeURIComponent(p.proxyId)}`);
    setDump(JSON.stringify(await r.json(), null, 2));
  };
  return (
    <section class="card" data-testid="proxy-detail">
      <h3>{p.proxyId}</h3>
      <p>
        served by {p.instance} · {p.connected ? "connected" : "disconnected"} since {ago(p.since)}
      </p>
      <table>
        <tbody>
          {COLUMNS.map((c) => {
            const s = p.sync[c];
            return (
              <tr key={c}>
                <th>{c}</th>
                <td>{s && <State s={s.state} />}</td>
                <td class="error" data-testid={`nack-${c}`}>
                  {s?.error ?? ""}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button type="button" onClick={() => void load()}>
        config dump
      </button>
      {dump && <pre class="dump">{dump}</pre>}
    </section>
  );
}

export function ProxiesView(props: { v: number; selected: string }) {
  const [f, setF] = useState<ProxyFilter>({ connectedOnly: true });
  const all = useMemo(() => proxyRows(store.entities.values(), {}), [props.v]);
  const rows = useMemo(() => proxyRows(store.entities.values(), f), [props.v, f]);
  const clusters = [...new Set(all.flatMap((r) => r.clusters))].sort();
  const namespaces = [...new Set(all.map((r) => r.proxy.namespace).filter(Boolean))].sort();
  const set = (k: keyof ProxyFilter) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  return (
    <div>
      {props.selected && <ProxyDetail id={props.selected} />}
      <div class="filters">
        <select data-testid="filter-cluster" onChange={set("cluster")}>
          <option value="">every cluster</option>
          {clusters.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <select data-testid="filter-namespace" onChange={set("namespace")}>
          <option value="">every namespace</option>
          {namespaces.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <select data-testid="filter-state" onChange={set("state")}>
          <option value="">every state</option>
          {SYNC_ORDER.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <input data-testid="filter-text" placeholder="proxy id contains…" onInput={set("text")} />
        <label>
          <input type="checkbox" checked={f.connectedOnly} onChange={(e) => setF({ ...f, connectedOnly: (e.target as HTMLInputElement).checked })} /> connected
          only
        </label>
        <span class="muted" data-testid="proxy-count">
          {rows.length} of {all.length} proxies{rows.length > LIMIT ? `, first ${LIMIT} shown` : ""}
        </span>
      </div>
      <table class="proxies">
        <thead>
          <tr>
            <th>NAME</th>
            <th>CLUSTER</th>
            {COLUMNS.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th>ISTIOD</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, LIMIT).map((r) => (
            <tr key={r.proxy.key} data-testid="proxy-row" data-proxy={r.proxy.proxyId}>
              <td>
                <a href={`#/proxies/${encodeURIComponent(r.proxy.proxyId)}`}>{r.proxy.proxyId}</a>
              </td>
              <td>{r.cluster}</td>
              {COLUMNS.map((c) => {
                const s = r.proxy.sync[c];
                return <td key={c}>{s && <State s={s.state} {...(s.error ? { title: s.error } : {})} />}</td>;
              })}
              <td>
                {r.proxy.instance}
                {r.proxy.connected ? "" : " (disconnected)"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
