import { useEffect, useMemo, useState } from "preact/hooks";
import { type DiffLine, lineDiff } from "../../domain/diff.js";
import type { ConfigEntity } from "../../domain/views.js";
import type { HistoryEntry } from "../../domain/wire.js";
import { ago, store } from "../store.js";

const pretty = (v: unknown) => (v === undefined ? "" : JSON.stringify(v, null, 2));

function Diff(props: { lines: DiffLine[] }) {
  return (
    <pre class="diff">
      {props.lines.map((l, i) => (
        <div key={i} class={l.op === "+" ? "add" : l.op === "-" ? "del" : ""}>
          {l.op} {l.text}
        </div>
      ))}
    </pre>
  );
}

function History(props: { e: ConfigEntity }) {
  const [h, setH] = useState<HistoryEntry[] | string>("loading…");
  useEffect(() => {
    let live = true;
    fetch(`./api/history?subject=${encodeURIComponent(props.e.key)}`)
      .then(async (r) => (r.ok ? ((await r.json()) as HistoryEntry[]) : `history: ${((await r.json()) as { error: string }).error}`))
      .then((x) => live && setH(x))
      .catch((err: Error) => live && setH(err.message));
    return () => {
      live = false;
    };
  }, [props.e.key, props.e.seq]);
  if (typeof h === "string") return <p class="muted">{h}</p>;
  return (
    <ol class="history" data-testid="history" reversed>
      {[...h].reverse().map((v, i, all) => {
        const prev = all[i + 1];
        return (
          <li key={v.seq} data-testid="version">
            <p>
              <strong>{v.deleted ? "deleted" : `version ${all.length - i}`}</strong> by <code>{v.source}</code> at {v.time} ({ago(v.time)}) · seq {v.seq}
            </p>
            {!v.deleted && <Diff lines={lineDiff(prev && !prev.deleted ? pretty(prev.spec) : "", pretty(v.spec))} />}
          </li>
        );
      })}
    </ol>
  );
}

export function ConfigView(props: { v: number; selected: string }) {
  const configs = useMemo(
    () =>
      [...store.entities.values()]
        .filter((e): e is ConfigEntity => e.kind === "config")
        .sort((a, b) => (`${a.resourceKind}/${a.namespace}/${a.name}` < `${b.resourceKind}/${b.namespace}/${b.name}` ? -1 : 1)),
    [props.v],
  );
  const sel = configs.find((c) => c.key === props.selected);
  return (
    <div class="columns">
      <section class="card">
        <h3>Resources</h3>
        {configs.length === 0 && <p class="muted">No mesh configuration yet.</p>}
        <table>
          <tbody>
            {configs.map((c) => (
              <tr key={c.key} data-testid="config-row" class={c.key === props.selected ? "selected" : ""}>
                <td>{c.resourceKind}</td>
                <td>
                  <a href={`#/config/${encodeURIComponent(c.key)}`}>
                    {c.namespace}/{c.name}
                  </a>
                </td>
                <td class="muted">
                  {c.source} · {ago(c.time)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted">
          Analysis messages appear here once the config admission path publishes them. The console is read-only: change configuration with{" "}
          <code>isthmus apply</code>.
        </p>
      </section>
      {sel && (
        <section class="card" data-testid="config-detail">
          <h3>
            {sel.resourceKind} {sel.namespace}/{sel.name}
          </h3>
          <pre>{pretty(sel.spec)}</pre>
          <h4>History</h4>
          <History e={sel} />
        </section>
      )}
    </div>
  );
}
