import { useMemo, useState } from "preact/hooks";
import type { FeedEvent } from "../../domain/wire.js";
import { hrefOf, store } from "../store.js";

const DOMAINS = ["", "discovery", "config", "ca", "pvl", "push"];

export function EventsView(props: { v: number }) {
  const [paused, setPaused] = useState<FeedEvent[] | undefined>(undefined);
  const [domain, setDomain] = useState("");
  const [type, setType] = useState("");
  const [subject, setSubject] = useState("");
  const feed = paused ?? store.feed;
  const shown = useMemo(
    () =>
      feed
        .filter((e) => (!domain || e.domain === domain) && (!type || e.type.includes(type)) && (!subject || e.subject.includes(subject)))
        .slice(-300)
        .reverse(),
    [props.v, paused, domain, type, subject],
  );
  return (
    <div>
      <div class="filters">
        <select data-testid="events-domain" onChange={(e) => setDomain((e.target as HTMLSelectElement).value)}>
          {DOMAINS.map((d) => (
            <option key={d} value={d}>
              {d || "every domain"}
            </option>
          ))}
        </select>
        <input placeholder="type contains…" onInput={(e) => setType((e.target as HTMLInputElement).value)} />
        <input placeholder="subject contains…" onInput={(e) => setSubject((e.target as HTMLInputElement).value)} />
        <button type="button" data-testid="events-pause" onClick={() => setPaused(paused ? undefined : [...store.feed])}>
          {paused ? "resume" : "pause"}
        </button>
        <span class="muted">{paused ? `paused at ${paused.length} events` : "live"}</span>
      </div>
      <table class="events">
        <thead>
          <tr>
            <th>time</th>
            <th>type</th>
            <th>subject</th>
            <th>source</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => {
            const href = e.key ? hrefOf(store.entities.get(e.key), e.key) : undefined;
            return (
              <tr key={`${e.stream}:${e.seq}`} data-testid="event-row" class={e.invalid ? "error" : e.deleted ? "muted" : ""}>
                <td>{e.time.slice(11, 23)}</td>
                <td>{e.invalid ? `invalid: ${e.invalid}` : e.deleted ? `${e.type} (deleted)` : e.type.replace(/^io\.isthmus\./, "")}</td>
                <td>{href ? <a href={href}>{e.subject}</a> : e.subject}</td>
                <td>{e.source}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
