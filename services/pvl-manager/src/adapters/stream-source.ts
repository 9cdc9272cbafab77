import { type Bus, StateReader } from "@isthmus/bus";
import { StreamConfigStore } from "@isthmus/config";
import { type DataOf, decodeEvent, domainFilter, eventSubject, isTombstone, parseSubject, pvlStatusChangedV1, streamName } from "@isthmus/events";
import { PVL_FINALIZER, PVL_KIND, type PvlConfigObject, type PvlStatus } from "../domain/spec.js";
import type { PvlConfigSource } from "./source.js";

/** One identity for every version of a name on the stream: a re-applied object owns what it owned before. */
const STREAM_UID = "config-stream";

/** The last status pvl-manager published for an ASMPvlConfig (the PVL stream), if any. */
export async function latestPvlStatus(bus: Bus, mesh: string, name: string): Promise<PvlStatus | undefined> {
  const subject = eventSubject(pvlStatusChangedV1, mesh, { name });
  try {
    const m = await bus.jsm.streams.getMessage(streamName(mesh, "pvl"), { last_by_subj: subject });
    if (!m) return undefined;
    const r = decodeEvent(m.data);
    if (!r.ok || isTombstone(r.event)) return undefined;
    return (r.event.data as DataOf<typeof pvlStatusChangedV1>).resourceStatus as unknown as PvlStatus;
  } catch (err) {
    if (/no message found|10037|404/i.test(String((err as Error)?.message ?? err))) return undefined;
    throw err;
  }
}

/**
 * ASMPvlConfig on the CONFIG stream (`isthmus apply` without a config cluster). The stream
 * has no finalizers, so the finalizer is played here: a tombstone makes the object "being
 * deleted" until the reconciler has removed what it created and drops the finalizer. The
 * status lives on the PVL stream (the reconciler publishes every transition there), so
 * writing it here only remembers it; after a restart it is read back from the PVL stream,
 * which also tells that a deleted object was already cleaned up (status Deleted).
 */
export class StreamPvlConfigs implements PvlConfigSource {
  private readonly store: StreamConfigStore;
  private readonly status = new Map<string, PvlStatus>();
  private reader: StateReader | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly mesh: string,
  ) {
    this.store = new StreamConfigStore(bus, mesh);
  }

  private async lastStatus(name: string): Promise<PvlStatus | undefined> {
    if (!this.status.has(name)) {
      const s = await latestPvlStatus(this.bus, this.mesh, name);
      if (s) this.status.set(name, s);
    }
    return this.status.get(name);
  }

  async get(name: string): Promise<PvlConfigObject | undefined> {
    const cur = await this.store.current(PVL_KIND, "", name);
    if (!cur.seq) return undefined;
    const status = await this.lastStatus(name);
    const metadata = { name, uid: STREAM_UID, resourceVersion: String(cur.seq), finalizers: [PVL_FINALIZER] };
    if (!cur.version?.data) {
      if (!status || status.status === "Deleted") return undefined;
      return { apiVersion: "istio.alibabacloud.com/v1beta1", kind: PVL_KIND, metadata: { ...metadata, deletionTimestamp: new Date().toISOString() }, status };
    }
    const d = cur.version.data;
    return { apiVersion: d.apiVersion, kind: PVL_KIND, metadata, spec: d.spec, ...(status && status.status !== "Deleted" ? { status } : {}) };
  }

  async replace(obj: PvlConfigObject): Promise<PvlConfigObject> {
    // Dropping the finalizer of a deleted object is the end of its cleanup (the reconciler then announces Deleted).
    if (obj.metadata.deletionTimestamp && !(obj.metadata.finalizers ?? []).includes(PVL_FINALIZER)) this.status.set(obj.metadata.name, { status: "Deleted" });
    return obj;
  }

  async writeStatus(obj: PvlConfigObject, status: PvlStatus): Promise<PvlConfigObject> {
    this.status.set(obj.metadata.name, status);
    return { ...obj, status };
  }

  async watch(changed: (name: string) => void, down: (err: unknown) => void): Promise<void> {
    const reader = new StateReader(this.bus.js, { stream: streamName(this.mesh, "config"), filter: domainFilter(this.mesh, "config", PVL_KIND) });
    this.reader = reader;
    void (async () => {
      try {
        for await (const it of reader) {
          if (it.kind !== "state" && it.kind !== "deleted") continue;
          const name = parseSubject(it.subject)?.tokens.at(-1);
          if (name) changed(name);
        }
      } catch (err) {
        down(err);
      }
    })();
  }

  async stop(): Promise<void> {
    await this.reader?.close();
  }
}
