import { type Bus, type BusLogger, publishBestEffort } from "@isthmus/bus";
import { buildEvent, proxyStatusV1 } from "@isthmus/events";
import type { TypeUrl } from "@isthmus/xds";
import type { Connection } from "./ads-server.js";

export interface StatusPublisherOptions {
  mesh: string;
  instance: string;
  /** How long changes are collected before one batch is published. */
  intervalMs: number;
  log: BusLogger;
  /** The streams still connected with a node id. */
  connectionsOf(id: string): ReadonlySet<Connection>;
}

/**
 * Proxy status on the PUSH stream: changed connections collected and published together
 * (one timer for all), the latest state per proxy subject. The subject is the node id's,
 * and several streams can share a node id (a proxy reconnecting, or a client reusing
 * another's id): a node id is reported disconnected only once none of its streams is left,
 * and otherwise shows its newest stream.
 */
export class StatusPublisher {
  private readonly dirty = new Map<string, Connection>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: Bus["nc"],
    private readonly o: StatusPublisherOptions,
  ) {}

  changed(c: Connection): void {
    this.dirty.set(c.id, c);
    this.timer ??= setTimeout(() => this.flush(), this.o.intervalMs);
  }

  flush(): void {
    this.timer = undefined;
    const batch = [...this.dirty.values()];
    this.dirty.clear();
    for (const changed of batch) {
      let p: Connection | undefined;
      for (const live of this.o.connectionsOf(changed.id)) if (!p || live.connectedAt >= p.connectedAt) p = live;
      const connected = p !== undefined;
      p ??= changed;
      const types: Record<string, Record<string, string>> = {};
      for (const [type, st] of p.types) {
        const t: Record<string, string> = { latest: p.cache.version(type as TypeUrl) };
        if (st.sent) t.sent = st.sent;
        if (st.acked) t.acked = st.acked;
        if (st.nacked) t.nacked = st.nacked;
        if (st.error) t.error = st.error;
        types[type] = t;
      }
      const ev = buildEvent(
        proxyStatusV1,
        this.o.mesh,
        { proxyId: p.id, instance: this.o.instance, connected, since: p.connectedAt.toISOString(), types },
        { source: this.o.instance },
      );
      try {
        publishBestEffort(this.nc, ev.subject, ev.event);
      } catch (err) {
        this.o.log.warn({ err: String(err), proxy: p.id.slice(0, 200) }, "proxy status not published");
      }
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
