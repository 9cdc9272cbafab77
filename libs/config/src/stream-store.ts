import { type Bus, Publisher, StateReader } from "@isthmus/bus";
import {
  buildEvent,
  buildTombstone,
  type ConfigKindKey,
  canonicalJson,
  configResourceV1,
  configTranslationV1,
  type DataOf,
  decodeEvent,
  domainFilter,
  eventSubject,
  isTombstone,
  serviceStateV1,
  streamName,
} from "@isthmus/events";
import { DeliverPolicy } from "@nats-io/jetstream";
import type { KnownService } from "./analyze.js";
import { StaleWriteError } from "./cluster-store.js";
import type { Message } from "./messages.js";
import type { ConfigObject } from "./resource.js";

export type StoredData = DataOf<typeof configResourceV1>;

/** One version of an object on the CONFIG stream. */
export interface StoredVersion {
  seq: number;
  time: string;
  /** Absent for a deletion. */
  data?: StoredData;
  actor?: string;
  origin?: string;
  op: "apply" | "delete";
}

export interface WriteOptions {
  /** Who writes (the NATS user); recorded for the audit trail. */
  actor: string;
  /** `cli`, `dir:<file>`, `cluster`. */
  origin: string;
  /** Admission's warnings and notes, kept with the object. */
  messages?: readonly Message[];
  /**
   * Optimistic concurrency: the subject's last sequence this write is based on (0 = the
   * object must not exist). Read by `apply` itself when not given.
   */
  expectSeq?: number;
  dryRun?: boolean;
}

const isWrongSequence = (err: unknown) =>
  /wrong last sequence|10071/i.test(String((err as Error)?.message ?? err)) || (err as { api_error?: { err_code?: number } }).api_error?.err_code === 10071;

const sameContent = (a: StoredData, b: Omit<StoredData, "origin" | "actor" | "messages">) =>
  canonicalJson({ s: a.spec, l: a.labels, n: a.annotations ?? {}, v: a.apiVersion }) ===
  canonicalJson({ s: b.spec, l: b.labels, n: b.annotations ?? {}, v: b.apiVersion });

/**
 * The CONFIG stream as the store of mesh configuration where there is no config cluster
 * (the local stack, compose): each object's subject holds its versions; a write is
 * published with the subject's last sequence it was based on, so two writers never
 * silently overwrite each other (the later is told it is stale); who and when travel with
 * every version, so `config history` is the event log itself.
 */
export class StreamConfigStore {
  private readonly publisher: Publisher;
  private readonly stream: string;

  constructor(
    private readonly bus: Bus,
    readonly mesh: string,
  ) {
    this.publisher = new Publisher(bus.js);
    this.stream = streamName(mesh, "config");
  }

  subject(kind: ConfigKindKey, namespace: string, name: string): string {
    return eventSubject(configResourceV1, this.mesh, { kind, namespace, name });
  }

  /** The current version (undefined when absent or deleted) and the subject's last sequence (0 when never written). */
  async current(kind: ConfigKindKey, namespace: string, name: string): Promise<{ seq: number; version?: StoredVersion }> {
    const subject = this.subject(kind, namespace, name);
    let m: Awaited<ReturnType<Bus["jsm"]["streams"]["getMessage"]>>;
    try {
      m = await this.bus.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    } catch (err) {
      if (/no message found|10037|404/i.test(String((err as Error)?.message ?? err))) return { seq: 0 };
      throw err;
    }
    if (!m) return { seq: 0 };
    const v = toVersion(m.seq, m.time.toISOString(), m.data);
    return { seq: m.seq, ...(v && v.op === "apply" ? { version: v } : {}) };
  }

  /** Every object of a kind (all kinds when none), as they are now. */
  async list(kind?: ConfigKindKey): Promise<StoredVersion[]> {
    const filter = kind ? domainFilter(this.mesh, "config", kind) : domainFilter(this.mesh, "config");
    const reader = new StateReader(this.bus.js, { stream: this.stream, filter });
    const out = new Map<string, StoredVersion>();
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      if (it.kind === "state") {
        const v = toVersionData(it.seq, it.event.time, it.event.data as StoredData);
        out.set(it.subject, v);
      } else if (it.kind === "deleted") out.delete(it.subject);
    }
    await reader.close();
    return [...out.values()];
  }

  /** Publish an admitted object unless it is unchanged; a concurrent write in between makes this one stale. */
  async apply(o: ConfigObject, w: WriteOptions): Promise<{ action: "created" | "configured" | "unchanged"; seq: number }> {
    const read = await this.current(o.kind, o.namespace, o.name);
    // Based on an older version than the one in force: stale, whatever it says.
    if (w.expectSeq !== undefined && w.expectSeq !== read.seq) throw new StaleWriteError(staleText(o.kind, o.namespace, o.name, read.version));
    const cur = read;
    const data: StoredData = {
      ...o,
      origin: w.origin,
      actor: w.actor,
      ...(w.messages?.length
        ? { messages: w.messages.slice(0, 256).map(({ code, name, level, message, path }) => ({ code, name, level, message, ...(path ? { path } : {}) })) }
        : {}),
    };
    if (cur.version?.data && sameContent(cur.version.data, data)) return { action: "unchanged", seq: cur.seq };
    const action = cur.version ? "configured" : "created";
    if (w.dryRun) return { action, seq: cur.seq };
    const ev = buildEvent(configResourceV1, this.mesh, data, { source: `isthmus/${w.origin.split(":")[0]}` });
    try {
      const ack = await this.publisher.publish(ev.subject, ev.event, { expectLastSubjectSequence: cur.seq });
      return { action, seq: ack.seq };
    } catch (err) {
      if (isWrongSequence(err))
        throw new StaleWriteError(
          `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name} changed since it was read (someone else applied it); read it again and retry`,
        );
      throw err;
    }
  }

  async delete(kind: ConfigKindKey, namespace: string, name: string, w: Omit<WriteOptions, "messages">): Promise<boolean> {
    const cur = w.expectSeq === undefined ? await this.current(kind, namespace, name) : { seq: w.expectSeq, version: { op: "apply" } as StoredVersion };
    if (!cur.version) return false;
    if (w.dryRun) return true;
    const t = buildTombstone(
      configResourceV1,
      this.mesh,
      { kind, namespace, name },
      { source: `isthmus/${w.origin.split(":")[0]}`, reason: `deleted by ${w.actor} (${w.origin})` },
    );
    try {
      await this.publisher.publish(t.subject, t.event, { expectLastSubjectSequence: cur.seq });
      return true;
    } catch (err) {
      if (isWrongSequence(err))
        throw new StaleWriteError(`${kind} ${namespace ? `${namespace}/` : ""}${name} changed since it was read; read it again and retry`);
      throw err;
    }
  }

  /** Every version the stream keeps of one object, oldest first. */
  async history(kind: ConfigKindKey, namespace: string, name: string): Promise<StoredVersion[]> {
    const subject = this.subject(kind, namespace, name);
    const consumer = await this.bus.js.consumers.get(this.stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const out: StoredVersion[] = [];
    const info = await consumer.info(true);
    if (info.num_pending === 0) return out;
    const msgs = await consumer.consume({ max_messages: 256 });
    for await (const m of msgs) {
      const v = toVersion(m.seq, new Date(Math.floor(m.info.timestampNanos / 1_000_000)).toISOString(), m.data);
      if (v) out.push(v);
      if (m.info.pending === 0) break;
    }
    await msgs.close().catch(() => {});
    return out;
  }

  /** What config-push reported it could not honour of each object (kind/namespace/name -> messages). */
  async translationProblems(): Promise<Map<string, Message[]>> {
    const reader = new StateReader(this.bus.js, { stream: streamName(this.mesh, "push"), filter: domainFilter(this.mesh, "push", "config") });
    const out = new Map<string, Message[]>();
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      if (it.kind !== "state" || it.event.type !== configTranslationV1.type) continue;
      const d = it.event.data as DataOf<typeof configTranslationV1>;
      if (!d.problems.length) continue;
      out.set(
        `${d.kind}/${d.namespace}/${d.name}`,
        d.problems.map((p) => ({ ...p, name: "TranslationSkipped", resource: `${d.kind} ${d.namespace}/${d.name}` })),
      );
    }
    await reader.close();
    return out;
  }
}

function staleText(kind: string, namespace: string, name: string, now: StoredVersion | undefined): string {
  const by = now ? ` (now revision ${now.seq}, applied by ${now.actor ?? "?"} at ${now.time})` : "";
  return `${kind} ${namespace ? `${namespace}/` : ""}${name} changed since the version this write is based on${by}: read it again and retry`;
}

function toVersionData(seq: number, time: string, data: StoredData): StoredVersion {
  return { seq, time, data, op: "apply", ...(data.actor ? { actor: data.actor } : {}), ...(data.origin ? { origin: data.origin } : {}) };
}

function toVersion(seq: number, time: string, bytes: Uint8Array): StoredVersion | undefined {
  const r = decodeEvent(bytes);
  if (!r.ok) return undefined;
  if (isTombstone(r.event)) {
    const reason = r.event.data.reason ?? "";
    const by = /^deleted by (.*) \((.*)\)$/.exec(reason);
    return { seq, time, op: "delete", ...(by ? { actor: by[1] as string, origin: by[2] as string } : {}) };
  }
  if (r.event.type !== configResourceV1.type) return undefined;
  return toVersionData(seq, time, r.event.data as StoredData);
}

/** The services discovery has published (the DISCOVERY stream), as analysis needs them. */
export async function discoveredServices(bus: Bus, mesh: string): Promise<KnownService[]> {
  const reader = new StateReader(bus.js, { stream: streamName(mesh, "discovery"), filter: domainFilter(mesh, "discovery", "service") });
  const byHost = new Map<string, KnownService>();
  for await (const it of reader) {
    if (it.kind === "caught-up") break;
    if (it.kind !== "state" || it.event.type !== serviceStateV1.type) continue;
    const s = it.event.data as DataOf<typeof serviceStateV1>;
    const k = byHost.get(s.hostname) ?? { hostname: s.hostname, namespace: s.namespace, ports: [], endpointLabels: [] };
    for (const p of s.ports) if (!k.ports.includes(p.port)) k.ports.push(p.port);
    k.endpointLabels.push(...s.endpoints.map((e) => e.labels));
    byHost.set(s.hostname, k);
  }
  await reader.close();
  return [...byHost.values()];
}
