import { useMemo } from "preact/hooks";
import { type Placement, type TrafficGraph, trafficGraph } from "../../domain/views.js";
import { store } from "../store.js";

interface Node {
  id: string;
  col: number;
  label: string;
  sub?: string;
}

interface Edge {
  from: string;
  to: string;
  label?: string;
}

/** The graph's nodes and edges: host → routes → subsets → clusters where the subset's endpoints run. */
function layout(g: TrafficGraph): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = [{ id: "host", col: 0, label: g.host.split(".")[0] ?? g.host, sub: g.host }];
  const edges: Edge[] = [];
  const subsetNode = (host: string, subset: string) => {
    const id = `subset:${host}:${subset}`;
    if (!nodes.some((n) => n.id === id)) {
      const labels = g.subsets.find((s) => s.name === subset)?.labels ?? {};
      const sel = Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      nodes.push({ id, col: 2, label: subset || "all endpoints", sub: host === g.host ? sel : host });
      const placement: Placement[] = host !== g.host ? [] : subset ? (g.subsets.find((s) => s.name === subset)?.placement ?? []) : g.placement;
      for (const p of placement) {
        const cid = `cluster:${p.cluster}`;
        if (!nodes.some((n) => n.id === cid)) nodes.push({ id: cid, col: 3, label: p.cluster, sub: p.network });
        edges.push({ from: id, to: cid, label: `${p.counts.ready} ready` });
      }
    }
    return id;
  };
  if (g.routes.length === 0) {
    edges.push({ from: "host", to: subsetNode(g.host, ""), label: "100%" });
  }
  g.routes.forEach((r, i) => {
    const rid = `route:${i}`;
    nodes.push({ id: rid, col: 1, label: r.name, sub: r.match });
    edges.push({ from: "host", to: rid });
    for (const d of r.destinations) edges.push({ from: rid, to: subsetNode(d.host, d.subset), label: `${d.weight}%` });
  });
  return { nodes, edges };
}

function Graph(props: { g: TrafficGraph }) {
  const { nodes, edges } = layout(props.g);
  const colW = 230;
  const rowH = 64;
  const boxW = 180;
  const boxH = 44;
  const rows = [0, 1, 2, 3].map((c) => nodes.filter((n) => n.col === c));
  const height = Math.max(1, ...rows.map((r) => r.length)) * rowH + 10;
  const pos = new Map<string, { x: number; y: number }>();
  rows.forEach((r, c) => {
    const offset = (height - r.length * rowH) / 2;
    r.forEach((n, i) => {
      pos.set(n.id, { x: 10 + c * colW, y: offset + i * rowH + 5 });
    });
  });
  return (
    <svg class="graph" width={4 * colW} height={height} viewBox={`0 0 ${4 * colW} ${height}`} data-testid="traffic-graph" role="img">
      <title>traffic graph of {props.g.host}</title>
      {edges.map((e) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) return null;
        const x1 = a.x + boxW;
        const y1 = a.y + boxH / 2;
        const x2 = b.x;
        const y2 = b.y + boxH / 2;
        return (
          <g key={`${e.from}>${e.to}`} class="edge">
            <path d={`M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}`} fill="none" />
            {e.label && (
              <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} text-anchor="middle" data-testid="edge-label">
                {e.label}
              </text>
            )}
          </g>
        );
      })}
      {nodes.map((n) => {
        const p = pos.get(n.id);
        if (!p) return null;
        return (
          <g key={n.id} class={`node col-${n.col}`} transform={`translate(${p.x},${p.y})`}>
            <rect width={boxW} height={boxH} rx="6" />
            <text x="8" y="18">
              {n.label.length > 26 ? `${n.label.slice(0, 25)}…` : n.label}
            </text>
            {n.sub && (
              <text x="8" y="34" class="sub">
                {n.sub.length > 30 ? `${n.sub.slice(0, 29)}…` : n.sub}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

export function TrafficView(props: { v: number; host: string }) {
  const hosts = useMemo(() => {
    const s = new Set<string>();
    for (const e of store.entities.values()) if (e.kind === "service") s.add(e.hostname);
    return [...s].sort();
  }, [props.v]);
  const g = useMemo(() => (props.host ? trafficGraph(store.entities.values(), props.host) : undefined), [props.v, props.host]);
  return (
    <div>
      <label>
        service{" "}
        <select
          data-testid="traffic-host"
          value={props.host}
          onChange={(e) => {
            location.hash = `#/traffic/${encodeURIComponent((e.target as HTMLSelectElement).value)}`;
          }}
        >
          <option value="">choose a service…</option>
          {hosts.map((h) => (
            <option key={h} value={h}>
              {h}
            </option>
          ))}
        </select>
      </label>
      {g && (
        <>
          <Graph g={g} />
          <div class="columns">
            <section class="card">
              <h3>Routes (VirtualService)</h3>
              {g.virtualServices.length === 0 && <p class="muted">No VirtualService: requests go to every endpoint.</p>}
              {g.virtualServices.map((vs) => (
                <p key={vs.key}>
                  <a href={`#/config/${encodeURIComponent(vs.key)}`}>
                    {vs.namespace}/{vs.name}
                  </a>
                </p>
              ))}
              <table>
                <tbody>
                  {g.routes.map((r) => (
                    <tr key={r.name} data-testid="route">
                      <td>{r.name}</td>
                      <td>{r.match}</td>
                      <td>{r.destinations.map((d) => `${d.subset || "all"} ${d.weight}%`).join(", ")}</td>
                      <td>{Object.keys(r.policies).length ? <code>{JSON.stringify(r.policies)}</code> : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <section class="card">
              <h3>Subsets and policies (DestinationRule)</h3>
              {g.destinationRules.length === 0 && <p class="muted">No DestinationRule.</p>}
              {g.trafficPolicy !== undefined && <pre>{pretty(g.trafficPolicy)}</pre>}
              <table>
                <tbody>
                  {g.subsets.map((s) => (
                    <tr key={s.name} data-testid="subset">
                      <td>{s.name}</td>
                      <td>
                        <code>
                          {Object.entries(s.labels)
                            .map(([k, v]) => `${k}=${v}`)
                            .join(",")}
                        </code>
                      </td>
                      <td>{s.placement.map((p) => `${p.cluster}: ${p.counts.ready} ready`).join("; ") || "no endpoints"}</td>
                      <td>{s.trafficPolicy !== undefined ? <code>{JSON.stringify(s.trafficPolicy)}</code> : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </div>
        </>
      )}
    </div>
  );
}
