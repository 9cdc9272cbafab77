import { X509Certificate } from "node:crypto";
import { syncState, TYPE_COLUMNS, type TypeStatus } from "@isthmus/config-push/sync-state";
import { FIXES } from "@isthmus/pvl-manager/diagnose";
import { endpointCounts } from "./views.js";
import type { CertSummary, EndpointView, Entity, FeedEvent, Sample, Snapshot, Update } from "./wire.js";

/** One message of a state stream, as the console's stream follower hands it over. */
export type Incoming =
  | { kind: "state"; stream: string; subject: string; seq: number; type: string; time: string; source: string; data: unknown }
  | { kind: "deleted"; stream: string; subject: string; seq: number; type: string; time: string; source: string }
  | { kind: "invalid"; stream: string; subject: string; seq: number; reason: string };

const FEED_SIZE = 500;
const SAMPLES = 360;

/**
 * The console's view of the mesh: the latest state of every entity of the streams it follows,
 * the last events, and samples over time. Pure: the stream follower feeds it, the HTTP side
 * reads snapshots and listens for updates.
 */
export class ReadModel {
  private readonly entities = new Map<string, Entity>();
  private readonly feed: FeedEvent[] = [];
  private readonly samples: Sample[] = [];
  private readonly listeners = new Set<(u: Update) => void>();
  private eventsSinceSample = 0;
  /** When the last DISCOVERY or CONFIG change arrived (after catching up), and each proxy's acked versions. */
  private changeAt: number | undefined;
  private readonly ackedOf = new Map<string, string>();
  private pushes: number[] = [];
  private pendingStreams: Set<string>;

  constructor(
    readonly mesh: string,
    streams: string[],
    readonly writing = false,
    private readonly now: () => number = Date.now,
  ) {
    this.pendingStreams = new Set(streams);
  }

  get caughtUp(): boolean {
    return this.pendingStreams.size === 0;
  }

  get size(): number {
    return this.entities.size;
  }

  get(key: string): Entity | undefined {
    return this.entities.get(key);
  }

  subscribe(fn: (u: Update) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  snapshot(): Snapshot {
    return {
      mesh: this.mesh,
      caughtUp: this.caughtUp,
      writing: this.writing,
      entities: [...this.entities.values()],
      feed: [...this.feed],
      samples: [...this.samples],
    };
  }

  /** A stream has been read up to its end once. */
  streamCaughtUp(stream: string): void {
    if (!this.pendingStreams.delete(stream)) return;
    if (this.caughtUp) this.emit({ op: "caught-up" });
  }

  apply(m: Incoming): void {
    this.eventsSinceSample++;
    const domain = m.subject.split(".")[2] ?? "";
    if (m.kind === "invalid") {
      this.pushFeed({
        stream: m.stream,
        seq: m.seq,
        subject: m.subject,
        domain,
        type: "",
        time: new Date().toISOString(),
        source: "",
        deleted: false,
        invalid: m.reason,
      });
      return;
    }
    const key = m.subject;
    if (this.caughtUp && (domain === "discovery" || domain === "config")) this.changeAt = this.now();
    let modelled = false;
    if (m.kind === "deleted") {
      modelled = this.entities.delete(key);
      this.ackedOf.delete(key);
      if (modelled) this.emit({ op: "del", key });
    } else {
      const e = toEntity(m);
      if (e?.kind === "proxy") this.notePush(key, m.data);
      if (e) {
        // A revocation is its own fact on its own subject; the console shows it on the certificate.
        if (e.kind === "certificate" && e.revoked) {
          const issued = [...this.entities.values()].find((x) => x.kind === "certificate" && x.serial === e.serial && !x.revoked);
          if (issued && issued.kind === "certificate") {
            const merged = { ...issued, revoked: e.revoked };
            this.entities.set(issued.key, merged);
            this.emit({ op: "put", entity: merged });
            this.pushFeed(feedOf(m, domain, issued.key));
            return;
          }
        }
        this.entities.set(key, e);
        this.emit({ op: "put", entity: e });
        modelled = true;
      }
    }
    this.pushFeed(feedOf(m, domain, modelled ? key : undefined));
  }

  /** A proxy reporting new acked versions, every type synced, after a mesh change: one push's convergence. */
  private notePush(key: string, data: unknown): void {
    const types = rec(rec(data).types) as Record<string, TypeStatus>;
    const acked = TYPE_COLUMNS.map(([, url]) => types[url]?.acked ?? "").join("|");
    const before = this.ackedOf.get(key);
    this.ackedOf.set(key, acked);
    if (this.changeAt === undefined || before === undefined || before === acked) return;
    if (TYPE_COLUMNS.every(([, url]) => syncState(types[url]) === "SYNCED")) this.pushes.push(this.now() - this.changeAt);
  }

  /** Take a sample now (the caller's clock drives this). */
  sample(now: number): Sample {
    let connected = 0;
    for (const e of this.entities.values()) if (e.kind === "proxy" && e.connected) connected++;
    const s: Sample = { t: now, connectedProxies: connected, events: this.eventsSinceSample };
    if (this.pushes.length) s.pushMs = Math.max(...this.pushes);
    this.pushes = [];
    this.eventsSinceSample = 0;
    this.samples.push(s);
    if (this.samples.length > SAMPLES) this.samples.shift();
    this.emit({ op: "sample", sample: s });
    return s;
  }

  private pushFeed(f: FeedEvent): void {
    this.feed.push(f);
    if (this.feed.length > FEED_SIZE) this.feed.shift();
    this.emit({ op: "feed", event: f });
  }

  private emit(u: Update): void {
    for (const l of this.listeners) l(u);
  }
}

function feedOf(m: Exclude<Incoming, { kind: "invalid" }>, domain: string, key: string | undefined): FeedEvent {
  const f: FeedEvent = {
    stream: m.stream,
    seq: m.seq,
    subject: m.subject,
    domain,
    type: m.type,
    time: m.time,
    source: m.source,
    deleted: m.kind === "deleted",
  };
  if (key) f.key = key;
  return f;
}

const rec = (v: unknown): Record<string, unknown> => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Istio node ids: `sidecar~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`. */
export function parseNodeId(id: string): { ip: string; pod: string; namespace: string } {
  const [, ip = "", podNs = ""] = id.split("~");
  const dot = podNs.lastIndexOf(".");
  return dot < 0 ? { ip, pod: podNs, namespace: "" } : { ip, pod: podNs.slice(0, dot), namespace: podNs.slice(dot + 1) };
}

/** Public fields of a PEM certificate; the PEM itself is public too. */
export function certSummary(pem: string): CertSummary {
  try {
    const c = new X509Certificate(pem);
    return {
      subject: c.subject,
      issuer: c.issuer,
      serial: c.serialNumber.toLowerCase(),
      notBefore: new Date(c.validFrom).toISOString(),
      notAfter: new Date(c.validTo).toISOString(),
      fingerprint256: c.fingerprint256,
      pem: c.toString(),
    };
  } catch {
    return { subject: "(unparsable certificate)", issuer: "", serial: "", notBefore: "", notAfter: "", fingerprint256: "", pem: "" };
  }
}

/**
 * The entity an event's state describes, or undefined for types the console does not model.
 * Only named fields are copied: whatever else an event may carry never reaches the browser.
 */
export function toEntity(m: Extract<Incoming, { kind: "state" }>): Entity | undefined {
  const base = { key: m.subject, time: m.time, source: m.source, seq: m.seq };
  const d = rec(m.data);
  switch (m.type) {
    case "io.isthmus.discovery.cluster_status.v1": {
      const e: Entity = {
        ...base,
        kind: "cluster",
        cluster: str(d.cluster),
        mode: d.mode as "managed",
        network: str(d.network),
        region: str(d.region),
        zone: str(d.zone),
        state: str(d.state),
        since: str(d.since),
      };
      if (typeof d.lastError === "string") e.lastError = d.lastError;
      return e;
    }
    case "io.isthmus.discovery.service_state.v1": {
      const endpoints: EndpointView[] = (Array.isArray(d.endpoints) ? d.endpoints : []).map((x) => {
        const p = rec(x);
        const loc = rec(p.locality);
        const ev: EndpointView = {
          address: str(p.address),
          ready: p.ready === true,
          serving: p.serving === true,
          terminating: p.terminating === true,
          cluster: str(p.cluster),
          network: str(p.network),
          locality: { region: str(loc.region), zone: str(loc.zone), subzone: str(loc.subzone) },
          labels: rec(p.labels) as Record<string, string>,
        };
        if (typeof p.pod === "string") ev.pod = p.pod;
        return ev;
      });
      return {
        ...base,
        kind: "service",
        cluster: str(d.cluster),
        namespace: str(d.namespace),
        name: str(d.name),
        hostname: str(d.hostname),
        ports: (Array.isArray(d.ports) ? d.ports : []).map((x) => {
          const p = rec(x);
          return { name: str(p.name), port: Number(p.port), protocol: str(p.protocol) };
        }),
        endpoints,
        counts: endpointCounts(endpoints),
        stale: d.stale === true,
      };
    }
    case "io.isthmus.discovery.network_gateway.v1":
      return {
        ...base,
        kind: "gateway",
        network: str(d.network),
        addresses: (Array.isArray(d.addresses) ? d.addresses : []).map((x) => ({ address: str(rec(x).address), port: Number(rec(x).port) })),
      };
    case "io.isthmus.config.resource.v1": {
      const e: Entity = {
        ...base,
        kind: "config",
        resourceKind: str(d.kind),
        namespace: str(d.namespace),
        name: str(d.name),
        apiVersion: str(d.apiVersion),
        labels: rec(d.labels) as Record<string, string>,
        spec: rec(d.spec),
      };
      if (typeof d.generation === "number") e.generation = d.generation;
      return e;
    }
    case "io.isthmus.push.proxy_status.v1": {
      const types = rec(d.types) as Record<string, TypeStatus>;
      const proxyId = str(d.proxyId);
      const sync: Record<string, { state: ReturnType<typeof syncState>; error?: string }> = {};
      for (const [col, url] of TYPE_COLUMNS) {
        const t = types[url];
        sync[col] = t?.error ? { state: syncState(t), error: t.error } : { state: syncState(t) };
      }
      return {
        ...base,
        kind: "proxy",
        proxyId,
        instance: str(d.instance),
        connected: d.connected === true,
        since: str(d.since),
        sync,
        ...parseNodeId(proxyId),
      };
    }
    case "io.isthmus.ca.trust_bundle_updated.v1":
      return {
        ...base,
        kind: "trust-bundle",
        trustDomain: str(d.trustDomain),
        roots: (Array.isArray(d.roots) ? d.roots : []).map((r) => certSummary(str(r))),
        version: Number(d.version),
      };
    case "io.isthmus.ca.intermediate_rotated.v1":
      return {
        ...base,
        kind: "intermediate",
        mesh: str(d.mesh),
        serial: str(d.serial),
        notAfter: str(d.notAfter),
        rootFingerprint: str(d.rootFingerprint),
        cert: certSummary(str(d.certificate)),
      };
    case "io.isthmus.ca.certificate_issued.v1": {
      const e: Entity = {
        ...base,
        kind: "certificate",
        serial: str(d.serial),
        spiffeId: str(d.spiffeId),
        notBefore: str(d.notBefore),
        notAfter: str(d.notAfter),
        issuer: str(d.issuer),
        requester: str(d.requester),
      };
      if (typeof d.cluster === "string") e.cluster = d.cluster;
      return e;
    }
    case "io.isthmus.ca.certificate_revoked.v1":
      return {
        ...base,
        kind: "certificate",
        serial: str(d.serial),
        spiffeId: "",
        notBefore: "",
        notAfter: "",
        issuer: "",
        requester: "",
        revoked: { reason: str(d.reason), revokedAt: str(d.revokedAt) },
      };
    case "io.isthmus.pvl.status_changed.v1":
      return {
        ...base,
        kind: "pvl",
        name: str(d.name),
        status: str(d.status),
        conditions: (Array.isArray(d.conditions) ? d.conditions : []).map((x) => {
          const c = rec(x);
          const out = {
            type: str(c.type),
            status: str(c.status),
            reason: str(c.reason),
            message: str(c.message),
            lastTransitionTime: str(c.lastTransitionTime),
          };
          const fix = FIXES[out.reason];
          return fix ? { ...out, fix } : out;
        }),
        resourceStatus: rec(d.resourceStatus),
      };
    default:
      return undefined;
  }
}
