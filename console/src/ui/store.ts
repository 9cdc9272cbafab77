import { useEffect, useState } from "preact/hooks";
import type { Entity, FeedEvent, Sample, Snapshot, Update } from "../domain/wire.js";

const FEED_SIZE = 500;

/** The browser's copy of the console's read model, kept current by the SSE stream. */
export class Store {
  mesh = "";
  caughtUp = false;
  writing = false;
  connected = false;
  entities = new Map<string, Entity>();
  feed: FeedEvent[] = [];
  samples: Sample[] = [];
  /** Bumped on every change; views memoise their derivations on it. */
  version = 0;
  private readonly listeners = new Set<() => void>();
  private source: EventSource | undefined;

  connect(url = "./api/stream"): void {
    const es = new EventSource(url);
    this.source = es;
    es.addEventListener("snapshot", (m) => {
      const s = JSON.parse((m as MessageEvent<string>).data) as Snapshot;
      this.mesh = s.mesh;
      this.caughtUp = s.caughtUp;
      this.writing = s.writing;
      this.entities = new Map(s.entities.map((e) => [e.key, e]));
      this.feed = s.feed;
      this.samples = s.samples;
      this.connected = true;
      this.changed();
    });
    es.addEventListener("updates", (m) => {
      for (const u of JSON.parse((m as MessageEvent<string>).data) as Update[]) this.apply(u);
      this.changed();
    });
    es.addEventListener("error", () => {
      // EventSource reconnects by itself and the server starts again with a snapshot.
      this.connected = false;
      this.changed();
    });
  }

  close(): void {
    this.source?.close();
  }

  private apply(u: Update): void {
    if (u.op === "put") this.entities.set(u.entity.key, u.entity);
    else if (u.op === "del") this.entities.delete(u.key);
    else if (u.op === "feed") {
      this.feed.push(u.event);
      if (this.feed.length > FEED_SIZE) this.feed.shift();
    } else if (u.op === "sample") this.samples = [...this.samples.slice(-359), u.sample];
    else if (u.op === "caught-up") this.caughtUp = true;
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

export const store = new Store();

/** Re-render on every store change; returns the store's version for memoising. */
export function useStore(): number {
  const [v, setV] = useState(store.version);
  useEffect(() => store.subscribe(() => setV(store.version)), []);
  return v;
}

export function useHash(): string {
  const [h, setH] = useState(location.hash);
  useEffect(() => {
    const on = () => setH(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return h;
}

/** Where the UI shows an entity: the target of every "go to" link. */
export function hrefOf(e: Entity | undefined, key?: string): string | undefined {
  if (!e) return undefined;
  switch (e.kind) {
    case "cluster":
    case "gateway":
      return "#/topology";
    case "service":
      return `#/traffic/${encodeURIComponent(e.hostname)}`;
    case "config":
      return `#/config/${encodeURIComponent(key ?? e.key)}`;
    case "proxy":
      return `#/proxies/${encodeURIComponent(e.proxyId)}`;
    case "pvl":
      return "#/privatelink";
    default:
      return "#/security";
  }
}

/** "in 3d" for a time ahead, "3d ago" for one behind. */
export function relative(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  return t > now ? `in ${span((t - now) / 1000)}` : `${span((now - t) / 1000)} ago`;
}

function span(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function ago(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "" : `${span(Math.max(0, now - t) / 1000)} ago`;
}
