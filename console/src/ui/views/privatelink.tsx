import { useMemo } from "preact/hooks";
import type { Entity } from "../../domain/wire.js";
import { ago, store } from "../store.js";

type Pvl = Extract<Entity, { kind: "pvl" }>;

export function PrivateLinkView(props: { v: number }) {
  const list = useMemo(() => [...store.entities.values()].filter((e): e is Pvl => e.kind === "pvl").sort((a, b) => (a.name < b.name ? -1 : 1)), [props.v]);
  return (
    <div>
      {list.length === 0 && (
        <p class="muted">No ASMPvlConfig reported. pvl-manager runs when the mesh has a config cluster (CONFIG_KUBECONFIG for `isthmus up`).</p>
      )}
      {list.map((p) => (
        <section key={p.key} class="card" data-testid={`pvl-${p.name}`}>
          <header>
            <h3>{p.name}</h3>
            <span class={`badge pvl-${p.status.toLowerCase()}`}>{p.status}</span>
            <span class="muted">updated {ago(p.time)}</span>
          </header>
          <table>
            <thead>
              <tr>
                <th>condition</th>
                <th>status</th>
                <th>reason</th>
                <th>message</th>
                <th>since</th>
                <th>fix</th>
              </tr>
            </thead>
            <tbody>
              {p.conditions.map((c) => (
                <tr key={c.type}>
                  <td>{c.type}</td>
                  <td>{c.status}</td>
                  <td>{c.reason}</td>
                  <td>{c.message}</td>
                  <td>{ago(c.lastTransitionTime)}</td>
                  <td class="fix">{c.fix ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>status</h4>
          <pre>{JSON.stringify(p.resourceStatus, null, 2)}</pre>
        </section>
      ))}
    </div>
  );
}
