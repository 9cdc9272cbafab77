import { render } from "preact";
import { useEffect } from "preact/hooks";
import { store, useHash, useStore } from "./store.js";
import { ConfigView } from "./views/config.js";
import { EventsView } from "./views/events.js";
import { PrivateLinkView } from "./views/privatelink.js";
import { ProxiesView } from "./views/proxies.js";
import { SecurityView } from "./views/security.js";
import { TopologyView } from "./views/topology.js";
import { TrafficView } from "./views/traffic.js";

const VIEWS = [
  ["topology", "Topology"],
  ["traffic", "Traffic"],
  ["proxies", "Proxies"],
  ["config", "Config"],
  ["security", "Security"],
  ["privatelink", "PrivateLink"],
  ["events", "Events"],
] as const;

declare global {
  interface Window {
    /** When the first snapshot was on screen (performance.now()); read by the bench. */
    __consoleFirstRender?: number;
  }
}

function App() {
  const v = useStore();
  const hash = useHash();
  const [, view = "topology", ...rest] = hash.split("/");
  const arg = decodeURIComponent(rest.join("/"));
  useEffect(() => {
    if (store.connected && window.__consoleFirstRender === undefined) {
      window.__consoleFirstRender = performance.now();
      document.body.dataset.ready = "true";
    }
  }, [v]);
  return (
    <>
      <header class="top">
        <h1>Isthmus</h1>
        <span class="muted">mesh {store.mesh || "…"}</span>
        <nav>
          {VIEWS.map(([id, label]) => (
            <a key={id} href={`#/${id}`} class={view === id ? "active" : ""} data-testid={`nav-${id}`}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`badge ${store.connected ? (store.caughtUp ? "ok" : "warn") : "error"}`} data-testid="connection">
          {store.connected ? (store.caughtUp ? "live" : "catching up…") : "reconnecting…"}
        </span>
        <span class="badge" title="writing through the console is off">
          {store.writing ? "read-write" : "read-only"}
        </span>
      </header>
      <main data-view={view}>
        {view === "topology" && <TopologyView v={v} />}
        {view === "traffic" && <TrafficView v={v} host={arg} />}
        {view === "proxies" && <ProxiesView v={v} selected={arg} />}
        {view === "config" && <ConfigView v={v} selected={arg} />}
        {view === "security" && <SecurityView v={v} />}
        {view === "privatelink" && <PrivateLinkView v={v} />}
        {view === "events" && <EventsView v={v} />}
      </main>
    </>
  );
}

store.connect();
render(<App />, document.getElementById("app") as HTMLElement);
