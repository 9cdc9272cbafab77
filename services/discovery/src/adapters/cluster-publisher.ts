import { type Bus, type BusLogger, type Publisher, StateReader } from "@isthmus/bus";
import {
  buildEvent,
  buildTombstone,
  type CloudEvent,
  clusterStatusV1,
  contentId,
  domainFilter,
  encodeEvent,
  eventSubject,
  parseSubject,
  serviceStateV1,
  streamName,
  transitionId,
} from "@isthmus/events";
import { type Counter, metrics } from "@opentelemetry/api";
import type { ClusterMeta } from "../domain/model.js";
import type { Skipped } from "../domain/translate.js";
import type { ClusterSource, ClusterState, SourceListener } from "./source.js";

/** Room for the headers a publish adds (message id, trace context) on top of the event's bytes. */
const HEADER_ALLOWANCE = 1024;

const meter = metrics.getMeter("discovery");
const publishedCounter: Counter = meter.createCounter("isthmus_discovery_events_published_total", {
  description: "service state events and tombstones published",
});
const skippedCounter: Counter = meter.createCounter("isthmus_discovery_objects_skipped_total", { description: "objects or parts skipped as invalid" });

export interface ClusterPublisherOptions {
  mesh: string;
  cluster: ClusterMeta;
  bus: Bus;
  publisher: Publisher;
  log: BusLogger;
  /** Changes within this window go out as one event per service. */
  coalesceMs?: number;
  /** After this long disconnected, endpoints are republished marked stale (never emptied). 0 = never. */
  staleAfterMs?: number;
}

/**
 * Turns a cluster source into events: one full-state event per changed service,
 * coalesced, nothing when the state is unchanged (content hash as message id), a
 * tombstone when a service is gone, and the cluster's status.
 */
export class ClusterPublisher implements SourceListener {
  private source: ClusterSource | undefined;
  private readonly dirtySet = new Set<string>();
  /** key -> the state now on the stream for this cluster: its message id and content hash */
  private readonly published = new Map<string, { msgId: string; content: string }>();
  /**
   * key -> the message id of the last tombstone published for it: a service deleted and put
   * back unchanged chains from the tombstone, so its id differs from the first publish's
   * (which JetStream's duplicate window would otherwise drop).
   */
  private readonly tombstoned = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private resyncing: Promise<void> | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private stale = false;
  private firstFlush = true;
  private stopped = false;
  /** What the source last said, and the services refused for size: together they make the cluster's status. */
  private sourceStatus: { state: ClusterState; error?: string } = { state: "Connecting" };
  private readonly oversized = new Map<string, string>();
  private reported = "";
  eventsPublished = 0;

  constructor(private readonly o: ClusterPublisherOptions) {}

  attach(source: ClusterSource): void {
    this.source = source;
  }

  private subjectOf(key: string): string {
    const [namespace = "", name = ""] = key.split("/");
    return eventSubject(serviceStateV1, this.o.mesh, { cluster: this.o.cluster.id, namespace, name });
  }

  /** What this cluster has on the stream already, so a restart republishes only differences. */
  async bootstrap(): Promise<void> {
    await this.readStream();
  }

  /**
   * What the stream holds for this cluster now: the state and message id of every service,
   * the ids of its tombstones, and subjects holding what is not a valid state (read as
   * published, with no content: the next flush tombstones them unless the source has them).
   */
  private async readStream(): Promise<void> {
    const filter = domainFilter(this.o.mesh, "discovery", "service", this.o.cluster.id);
    const reader = new StateReader(this.o.bus.js, { stream: streamName(this.o.mesh, "discovery"), filter });
    this.published.clear();
    this.tombstoned.clear();
    const keyOf = (subject: string) => {
      const [, , namespace, name] = parseSubject(subject).tokens;
      return namespace && name ? `${namespace}/${name}` : undefined;
    };
    try {
      for await (const item of reader) {
        if (item.kind === "caught-up") break;
        const key = keyOf(item.subject);
        if (!key) continue;
        if (item.kind === "deleted") {
          if (item.msgId) this.tombstoned.set(key, item.msgId);
        } else if (item.kind === "invalid") {
          this.published.set(key, { msgId: `invalid:${item.seq}`, content: "" });
        } else {
          const content = contentId(serviceStateV1.type, item.subject, item.event.data);
          this.published.set(key, { msgId: item.msgId ?? content, content });
        }
      }
    } finally {
      await reader.close();
    }
  }

  /**
   * Re-assert the source's truth over the stream: anything else written on this cluster's
   * subjects (a foreign state, a stray tombstone, garbage) is corrected by the next flush,
   * which compares against what the stream holds now. The status is said again too.
   */
  async resync(): Promise<void> {
    if (this.stopped || !this.source?.synced || this.resyncing) return;
    while (this.flushing) await this.flushing;
    this.resyncing = this.readStream();
    try {
      await this.resyncing;
    } finally {
      this.resyncing = undefined;
    }
    this.reported = "";
    this.publishStatus();
    this.dirty([...this.published.keys(), ...this.tombstoned.keys(), ...this.source.keys()]);
  }

  dirty(keys: Iterable<string>): void {
    for (const k of keys) this.dirtySet.add(k);
    if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), this.o.coalesceMs ?? 10);
  }

  status(state: ClusterState, error?: string): void {
    const c = this.o.cluster;
    this.sourceStatus = error ? { state, error } : { state };
    this.publishStatus();
    if (state === "Disconnected" && this.o.staleAfterMs && !this.staleTimer) {
      this.staleTimer = setTimeout(() => {
        this.stale = true;
        this.dirty(this.published.keys());
      }, this.o.staleAfterMs);
    }
    if (state === "Synced") {
      clearTimeout(this.staleTimer);
      this.staleTimer = undefined;
      if (this.stale) {
        this.stale = false;
        this.dirty(this.published.keys());
      }
    }
    this.o.log.info({ cluster: c.id, state, error }, "cluster status");
  }

  /** The cluster's status: the source's, except that a Synced cluster with services refused for size is Degraded. */
  private publishStatus(): void {
    const c = this.o.cluster;
    let { state, error } = this.sourceStatus;
    let degraded: string | undefined;
    if (state === "Synced" && this.oversized.size) {
      const first = [...this.oversized.values()].slice(0, 3).join("; ");
      degraded = `${this.oversized.size} service(s) not published: ${first}${this.oversized.size > 3 ? "; ..." : ""}`;
      error = degraded;
    }
    const effective: ClusterState | "Degraded" = degraded ? "Degraded" : state;
    // Said once per change: `since` is when the cluster entered this state.
    const key = `${effective}|${error ?? ""}`;
    if (key === this.reported) return;
    this.reported = key;
    const data = {
      cluster: c.id,
      mode: c.mode,
      network: c.network,
      region: c.region,
      zone: c.zone,
      state: effective,
      since: new Date().toISOString(),
      ...(error ? { lastError: error } : {}),
    };
    const ev = buildEvent(clusterStatusV1, this.o.mesh, data, { source: `discovery/${c.id}` });
    this.o.publisher.publish(ev.subject, ev.event).catch((err) => this.o.log.warn({ err: String(err), cluster: c.id }, "cluster status not published"));
  }

  skipped(items: Skipped[]): void {
    for (const s of items) {
      skippedCounter.add(1, { cluster: this.o.cluster.id });
      this.o.log.warn({ cluster: this.o.cluster.id, object: s.object, reason: s.reason }, "skipped invalid input");
    }
  }

  async flush(): Promise<void> {
    this.timer = undefined;
    // Never against a half-read picture of the stream.
    while (this.resyncing) await this.resyncing.catch(() => {});
    if (this.flushing) {
      await this.flushing;
      if (this.dirtySet.size && !this.timer) return this.flush();
      return;
    }
    const src = this.source;
    if (!src?.synced || this.stopped) return;
    if (this.firstFlush) {
      // Services deleted while nobody watched: on the stream, no longer in the cluster.
      this.firstFlush = false;
      for (const k of this.published.keys()) this.dirtySet.add(k);
    }
    const keys = [...this.dirtySet];
    this.dirtySet.clear();
    this.flushing = this.publishKeys(src, keys);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.dirtySet.size && !this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), this.o.coalesceMs ?? 10);
  }

  private async publishKeys(src: ClusterSource, keys: string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        try {
          await this.publishKey(src, key);
        } catch (err) {
          this.dirtySet.add(key); // try again next round
          this.o.log.warn({ err: String(err), key }, "publish failed; will retry");
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(64, keys.length) }, worker));
  }

  private async publishKey(src: ClusterSource, key: string): Promise<void> {
    const subject = this.subjectOf(key);
    const state = src.state(key);
    if (!state) {
      if (!this.published.has(key)) return;
      const [namespace = "", name = ""] = key.split("/");
      const t = buildTombstone(
        serviceStateV1,
        this.o.mesh,
        { cluster: this.o.cluster.id, namespace, name },
        { source: `discovery/${this.o.cluster.id}`, reason: "service deleted" },
      );
      const msgId = transitionId(this.published.get(key)?.msgId, "tombstone");
      await this.o.publisher.publish(t.subject, t.event, { msgId });
      this.published.delete(key);
      this.tombstoned.set(key, msgId);
      if (this.oversized.delete(key)) this.publishStatus();
    } else {
      const data = { ...state, stale: this.stale };
      const content = contentId(serviceStateV1.type, subject, data);
      const prev = this.published.get(key);
      if (prev?.content === content) return;
      const msgId = transitionId(prev?.msgId ?? this.tombstoned.get(key), content);
      const ev = buildEvent(serviceStateV1, this.o.mesh, data, { source: `discovery/${this.o.cluster.id}` });
      if (this.refuseOversized(key, ev.event)) return;
      await this.o.publisher.publish(ev.subject, ev.event, { msgId });
      this.published.set(key, { msgId, content });
      this.tombstoned.delete(key);
    }
    this.eventsPublished++;
    publishedCounter.add(1, { cluster: this.o.cluster.id });
  }

  /**
   * A state larger than the server takes (NATS max_payload, 1 MiB by default: some 10,000
   * ports) would fail on every try: it is refused with the reason instead, the previous
   * state stays on the stream, and the cluster reads Degraded until it fits again.
   */
  private refuseOversized(key: string, event: CloudEvent): boolean {
    const max = this.o.bus.nc.info?.max_payload ?? 1024 * 1024;
    const size = encodeEvent(event).length + HEADER_ALLOWANCE;
    const was = this.oversized.has(key);
    if (size <= max) {
      if (was) {
        this.oversized.delete(key);
        this.publishStatus();
      }
      return false;
    }
    const reason = `service state of ${size} bytes is over the NATS max payload of ${max} bytes`;
    if (!was) this.skipped([{ object: `Service ${key}`, reason }]);
    this.oversized.set(key, `${key}: ${reason}`);
    if (!was) this.publishStatus();
    return true;
  }

  /** The cluster left the mesh: its services go with it. */
  async retractAll(): Promise<void> {
    for (const key of [...this.published.keys()]) {
      const [namespace = "", name = ""] = key.split("/");
      const t = buildTombstone(
        serviceStateV1,
        this.o.mesh,
        { cluster: this.o.cluster.id, namespace, name },
        { source: `discovery/${this.o.cluster.id}`, reason: "cluster removed" },
      );
      await this.o.publisher.publish(t.subject, t.event);
      this.published.delete(key);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.staleTimer);
    await this.flushing;
  }
}
