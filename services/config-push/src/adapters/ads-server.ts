import { X509Certificate } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { type BusLogger, silentLogger } from "@isthmus/bus";
import { parseSpiffeId } from "@isthmus/pki";
import {
  type CachedResource,
  encodeSotwBody,
  fastAdsServiceDefinition,
  type SnapshotCache,
  type SotwRequest,
  TYPE,
  type TypeUrl,
  typeDescriptor,
  withNonce,
} from "@isthmus/xds";
import { authorizeSecret, checkProxyIdentity, type ProxyInfo, parseNode, type XdsNode } from "../domain/proxy.js";
import { type DeltaRequest, DeltaStream } from "./delta-ads.js";
import { PushQueue } from "./push-queue.js";
import { PushRounds } from "./push-rounds.js";
import { BoundedWriter } from "./send-queue.js";
import { type Subscription, SubscriptionSets } from "./subscriptions.js";
import { errorText, namesProblem, nodeIdProblem, RefusedRequest, XDS_LIMITS, type XdsLimits } from "./xds-limits.js";
import { xdsMetrics } from "./xds-metrics.js";

type DiscoveryRequest = SotwRequest;

/** Per proxy and type: what it asked for, what it was sent, what it acked or nacked. */
export interface TypeState {
  names: Set<string> | "*";
  /** The interned subscription the names come from (compared as raw bytes on each request). */
  sub?: Subscription;
  sent?: string;
  nonce?: string;
  acked?: string;
  nacked?: string;
  error?: string;
}

export interface ProxyConnection {
  id: string;
  /** This stream's own id (node id and a counter, as istiod's): several streams may share a node id. */
  connId: string;
  info: ProxyInfo;
  /** The proxy's ISTIO_VERSION (the pilot_xds label). */
  version: string;
  writer: BoundedWriter;
  connectedAt: Date;
  types: Map<string, TypeState>;
  cache: SnapshotCache;
  /** Types changed in the cache and not yet pushed (waiting for a push slot). */
  pending: Set<TypeUrl>;
  flush(): boolean;
}

/** How proxies are given their view of the mesh. */
export interface ViewSource {
  acquire(p: ProxyInfo): SnapshotCache;
  release(cache: SnapshotCache): void;
}

export interface AdsServerOptions {
  mesh: string;
  trustDomain: string;
  /** At most this many proxies with a push sent and not yet ACKed (Istio's PILOT_PUSH_THROTTLE). */
  maxConcurrentPushes?: number;
  /** How long a pushed proxy holds its slot without answering (then it is stalled until it does). */
  ackTimeoutMs?: number;
  /** Caps on what a client may send and have queued (XDS_LIMITS by default). */
  limits?: Partial<XdsLimits>;
  log?: BusLogger;
}

type Stream<T> = grpc.ServerDuplexStream<T, unknown>;
export type Connection = ProxyConnection | DeltaStream;

/** The ISTIO_VERSION an istio-agent puts in the node metadata. */
function proxyVersion(node: XdsNode | undefined): string {
  const f = node?.metadata?.fields?.ISTIO_VERSION;
  return f?.string_value || f?.stringValue || "unknown";
}

/** End a stream with a status, the way grpc-js turns a stream error into trailers. */
function refuse(stream: Stream<unknown>, code: grpc.status, details: string): void {
  stream.emit("error", { code, details });
}

/** Call `gone` once the proxy's stream ends, fails or is cancelled; a half-close is answered with ours. */
function onStreamGone(stream: Stream<unknown>, gone: () => void): void {
  stream.on("end", () => {
    gone();
    stream.end();
  });
  stream.on("error", gone);
  stream.on("cancelled", gone);
}

/** The SPIFFE identity in a TLS peer's certificate, if the stream is mutually authenticated. */
function peerIdentity(stream: Stream<unknown>): ReturnType<typeof parseSpiffeId> {
  const raw = (stream.getAuthContext?.()?.sslPeerCertificate as { raw?: Buffer } | undefined)?.raw;
  if (!raw) return undefined;
  const san = new X509Certificate(raw).subjectAltName ?? "";
  const uri = /URI:(spiffe:\/\/[^,\s]+)/.exec(san)?.[1];
  return uri ? parseSpiffeId(uri) : undefined;
}

/**
 * ADS, state of the world and delta. A response carries every subscribed resource of a type
 * at the view's version, with a nonce; a request echoing that nonce is an ACK, or a NACK
 * when it has error_detail — a NACKed proxy is not sent that version again and stays on its
 * last good one. Cache changes go only to the proxies of that view whose types changed, at
 * most `maxConcurrentPushes` at a time.
 */
export class AdsServer {
  readonly proxies = new Map<Stream<DiscoveryRequest>, ProxyConnection>();
  readonly delta = new Set<DeltaStream>();
  private readonly byCache = new Map<SnapshotCache, Set<Connection>>();
  private readonly byId = new Map<string, Set<Connection>>();
  private connSeq = 0;
  readonly limits: XdsLimits;
  /** Each push followed from its cause to the last ACK (span, convergence time). */
  readonly rounds = new PushRounds();
  private unobserve: (() => void) | undefined;
  private server: grpc.Server | undefined;
  private nonce = 0;
  responses = 0;
  bytesSent = 0;
  refusedStreams = 0;
  private readonly subscriptions = new SubscriptionSets();
  readonly queue: PushQueue;
  private readonly log: BusLogger;
  /** Told whenever a proxy connects, is sent something, ACKs, NACKs or goes away. */
  onStatus: (p: Connection, connected: boolean) => void = () => {};

  constructor(
    private readonly views: ViewSource,
    private readonly o: AdsServerOptions,
  ) {
    this.log = o.log ?? silentLogger;
    this.limits = { ...XDS_LIMITS, ...o.limits };
    this.queue = new PushQueue(o.maxConcurrentPushes ?? 1_000, o.ackTimeoutMs ?? 5_000, (c, wrote) => this.rounds.flushed(c, wrote));
  }

  /** The streams connected with this node id (usually one; a restarted proxy may briefly have two). */
  connectionsOf(id: string): ReadonlySet<Connection> {
    return this.byId.get(id) ?? new Set();
  }

  /** Identify a stream's proxy on its first request; undefined (and the stream ended with the reason) if it may not connect. */
  private admit(stream: Stream<unknown>, node: XdsNode | undefined): { info: ProxyInfo; cache: SnapshotCache; connId: string; version: string } | undefined {
    const info = parseNode(node);
    const invalid = nodeIdProblem(info.id, this.limits);
    const reason = invalid ?? checkProxyIdentity(info, peerIdentity(stream), { mesh: this.o.mesh, trustDomain: this.o.trustDomain });
    if (reason) {
      this.refusedStreams++;
      this.log.warn({ proxy: info.id.slice(0, 200), peer: stream.getPeer(), reason }, "xDS stream refused");
      refuse(stream, invalid ? grpc.status.INVALID_ARGUMENT : grpc.status.PERMISSION_DENIED, reason);
      return undefined;
    }
    return { info, cache: this.views.acquire(info), connId: `${info.id}-${++this.connSeq}`, version: proxyVersion(node) };
  }

  /** Where a connection's responses go: bounded, the stream closed when its client stops reading or answering. */
  private writer(stream: Stream<unknown>, id: string): BoundedWriter {
    return new BoundedWriter(stream, this.limits.maxQueuedBytesPerStream, (bytes) => {
      this.log.warn({ proxy: id, bytes }, "xDS stream closed: its client does not read or answer");
      refuse(
        stream,
        grpc.status.RESOURCE_EXHAUSTED,
        `${bytes} bytes of responses would be unanswered on this stream; at most ${this.limits.maxQueuedBytesPerStream} are sent to a client that does not read or answer`,
      );
    });
  }

  private track(cache: SnapshotCache, c: Connection): void {
    let set = this.byCache.get(cache);
    if (!set) {
      set = new Set();
      this.byCache.set(cache, set);
    }
    set.add(c);
    let same = this.byId.get(c.id);
    if (!same) {
      same = new Set();
      this.byId.set(c.id, same);
    }
    same.add(c);
  }

  private untrack(cache: SnapshotCache, c: Connection): void {
    const set = this.byCache.get(cache);
    set?.delete(c);
    if (set && !set.size) this.byCache.delete(cache);
    const same = this.byId.get(c.id);
    same?.delete(c);
    if (same && !same.size) this.byId.delete(c.id);
    this.queue.forget(c);
    this.rounds.leave(c);
    this.views.release(cache);
  }

  /** A proxy answered a response of this type: free its push slot, count a NACK. */
  private answered(c: Connection, type: string, nack: boolean): void {
    if (nack) xdsMetrics.rejected(type);
    c.writer.answered(type);
    this.queue.done(c);
    this.rounds.answered(c);
    this.onStatus(c, true);
  }

  /**
   * Response bodies already encoded for a view, by (type, version, base version, subscription):
   * proxies of one view with the same subscription get the same bytes, encoded once.
   */
  private readonly bodies = new Map<SnapshotCache, Map<string, Buffer | null>>();

  private body<T extends Buffer | null | undefined>(cache: SnapshotCache, key: string, make: () => T): T {
    let m = this.bodies.get(cache);
    if (!m) {
      m = new Map();
      this.bodies.set(cache, m);
    }
    let b = m.get(key) as T | undefined;
    if (b === undefined) {
      b = make();
      if (b !== undefined) m.set(key, b);
    }
    return b as T;
  }

  private send(p: ProxyConnection, type: TypeUrl, st: TypeState, full = true): boolean {
    const cache = p.cache;
    const version = cache.version(type);
    const names = st.names;
    // Only Listener and Cluster responses must carry the whole state; for routes, endpoints
    // and secrets the resources changed since the proxy's version are enough (what most
    // pushes are: one EDS change). Walk the (small) change set, not the (large) subscription.
    const base = !full && !typeDescriptor(type)?.fullStateInSotw && st.sent ? st.sent : "";
    const body = this.body(cache, `${type}\n${version}\n${base}\n${names === "*" ? "*" : (st.sub?.id ?? "")}`, () => {
      let resources: CachedResource[] | undefined;
      const changed = base ? cache.changedSince(type, base) : undefined;
      if (changed) {
        resources = [];
        for (const n of changed) {
          if (names !== "*" && !names.has(n)) continue;
          const r = cache.getOne(type, n);
          if (r) resources.push(r);
        }
        if (!resources.length) return null;
      }
      resources ??= cache.get(type, names === "*" ? undefined : names);
      return encodeSotwBody(
        version,
        resources.map((r) => r.any),
        type,
      );
    });
    if (body === null) {
      // Nothing this proxy subscribes to changed: it already holds the current state.
      st.sent = version;
      st.acked = version;
      return false;
    }
    const msg = withNonce(body, String(this.nonce + 1));
    if (!p.writer.write(msg, type)) return false;
    st.sent = version;
    st.nonce = String(++this.nonce);
    this.responses++;
    this.bytesSent += msg.length;
    xdsMetrics.sent(type, msg.length, this.rounds.queuedAt(p));
    this.onStatus(p, true);
    return true;
  }

  private onRequest(stream: Stream<DiscoveryRequest>, req: DiscoveryRequest): void {
    let p = this.proxies.get(stream);
    if (!p) {
      const admitted = this.admit(stream, req.node);
      if (!admitted) return;
      const { info, cache } = admitted;
      const conn: ProxyConnection = {
        id: info.id,
        connId: admitted.connId,
        version: admitted.version,
        writer: this.writer(stream, info.id),
        info,
        connectedAt: new Date(),
        types: new Map(),
        cache,
        pending: new Set(),
        flush: () => {
          let wrote = false;
          for (const type of conn.pending) {
            const st = conn.types.get(type);
            if (st && st.sent !== cache.version(type) && st.nacked !== cache.version(type)) wrote = this.send(conn, type, st, false) || wrote;
          }
          conn.pending.clear();
          return wrote;
        },
      };
      p = conn;
      this.proxies.set(stream, p);
      this.track(cache, p);
    }
    const type = req.type_url;
    const desc = typeDescriptor(type);
    if (!desc) {
      this.log.warn({ proxy: p.id, type: type.slice(0, 200) }, "request for an unknown resource type ignored");
      return;
    }
    let st = p.types.get(type);
    if (!st) {
      st = { names: "*" };
      p.types.set(type, st);
    }
    if (req.response_nonce) {
      if (req.response_nonce !== st.nonce) return; // stale: a newer response is on its way
      if (req.error_detail) {
        st.nacked = st.sent;
        st.error = errorText(req.error_detail.message, this.limits);
        this.log.warn({ proxy: p.id, type, version: st.sent, error: st.error }, "NACK: proxy keeps its last good config");
      } else {
        st.acked = req.version_info;
        st.nacked = undefined;
        st.error = undefined;
      }
      this.answered(p, type, Boolean(req.error_detail));
    }
    const raw = req.resource_names.raw;
    const checked = () => {
      const names = req.resource_names.decode();
      const problem = namesProblem(names, this.limits);
      if (problem) throw new RefusedRequest(problem);
      return names;
    };
    let sub: Subscription | undefined;
    if (raw.length === 0 && desc.wildcardInSotw) sub = undefined;
    else if (type === TYPE.secret) sub = this.subscriptions.intern(this.authorizedSecrets(p, checked(), st));
    else if (st.sub?.raw?.equals(raw)) sub = st.sub;
    else sub = this.subscriptions.internRaw(raw, checked);
    if (sub !== st.sub) {
      this.subscriptions.release(st.sub);
      st.sub = sub;
    } else if (type === TYPE.secret) this.subscriptions.release(sub); // interned again: one use too many
    const names = sub ? sub.names : "*";
    const changed = st.names !== names;
    st.names = names;
    const version = p.cache.version(type as TypeUrl);
    // A new subscription gets the full state; a proxy that is merely behind (its ACK of an
    // older version arrived after a push) gets what changed since then.
    if (changed || (st.sent !== version && st.nacked !== version)) this.send(p, type as TypeUrl, st, changed);
  }

  /** SDS names this proxy may have; the others are refused, logged and reported in its status. */
  private authorizedSecrets(p: { id: string; info: ProxyInfo }, names: string[], st: { error?: string }): string[] {
    const ok: string[] = [];
    const refused: string[] = [];
    for (const n of names) {
      const reason = authorizeSecret(n, p.info.namespace);
      if (reason) refused.push(reason);
      else ok.push(n);
    }
    if (refused.length) {
      st.error = refused.join("; ");
      this.log.warn({ proxy: p.id, refused }, "secret request refused");
    }
    return ok;
  }

  /** A view's cache changed: queue its proxies (those subscribed to a changed type) for a push. */
  push(cache: SnapshotCache, types: TypeUrl[]): void {
    this.bodies.delete(cache); // a new version: what was encoded for the old one is not sent again
    for (const c of this.byCache.get(cache) ?? []) {
      for (const t of types) if (c.types.has(t)) c.pending.add(t);
      if (c.pending.size) {
        this.queue.add(c);
        this.rounds.assign(c);
      }
    }
    this.queue.drain();
  }

  async listen(host: string, port: number, creds = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": this.limits.maxRequestBytes });
    const failed = (stream: Stream<unknown>, err: unknown, what: string) => {
      if (err instanceof RefusedRequest) {
        this.log.warn({ peer: stream.getPeer(), reason: err.message }, "xDS request refused");
        refuse(stream, grpc.status.INVALID_ARGUMENT, err.message);
      } else this.log.warn({ err: String(err) }, what);
    };
    this.unobserve ??= xdsMetrics.observeConnected(() => {
      const n = new Map<string, number>();
      for (const p of this.proxies.values()) n.set(`${p.version}\nsotw`, (n.get(`${p.version}\nsotw`) ?? 0) + 1);
      for (const d of this.delta) n.set(`${d.version}\ndelta`, (n.get(`${d.version}\ndelta`) ?? 0) + 1);
      return n;
    });
    server.addService(fastAdsServiceDefinition(), {
      StreamAggregatedResources: (stream: Stream<DiscoveryRequest>) => {
        stream.on("data", (req: DiscoveryRequest) => {
          try {
            this.onRequest(stream, req);
          } catch (err) {
            failed(stream, err, "bad discovery request");
          }
        });
        const gone = () => {
          const p = this.proxies.get(stream);
          if (p && this.proxies.delete(stream)) {
            for (const st of p.types.values()) this.subscriptions.release(st.sub);
            this.untrack(p.cache, p);
            this.onStatus(p, false);
          }
        };
        onStreamGone(stream, gone);
      },
      DeltaAggregatedResources: (stream: Stream<DeltaRequest>) => {
        let d: DeltaStream | undefined;
        stream.on("data", (req: DeltaRequest) => {
          try {
            if (!d) {
              const admitted = this.admit(stream, req.node);
              if (!admitted) return;
              d = new DeltaStream(this.writer(stream, admitted.info.id), admitted.info, admitted.cache, () => String(++this.nonce), {
                connId: admitted.connId,
                version: admitted.version,
                limits: this.limits,
                log: this.log,
                authorizeSecrets: (names, st) => this.authorizedSecrets(d as DeltaStream, names, st),
                answered: (s, type, nack) => this.answered(s, type, nack),
                sent: (s, type, bytes) => {
                  this.bytesSent += bytes;
                  xdsMetrics.sent(type, bytes, this.rounds.queuedAt(s));
                  this.onStatus(s, true);
                },
                subscriptions: this.subscriptions,
                body: (key, make) => this.body(admitted.cache, key, make),
              });
              this.delta.add(d);
              this.track(admitted.cache, d);
            }
            d.onRequest(req);
          } catch (err) {
            failed(stream, err, "bad delta discovery request");
          }
        });
        const gone = () => {
          if (d && this.delta.delete(d)) {
            d.release();
            this.untrack(d.cache, d);
            this.onStatus(d, false);
          }
        };
        onStreamGone(stream, gone);
      },
    });
    this.server = server;
    return this.bind(host, port, creds);
  }

  /** Serve on one more port (e.g. plaintext next to TLS, for clients that cannot do TLS to the control plane). */
  bind(host: string, port: number, creds: grpc.ServerCredentials): Promise<number> {
    const server = this.server;
    if (!server) throw new Error("listen first");
    return new Promise((resolve, reject) => server.bindAsync(`${host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))));
  }

  async stop(): Promise<void> {
    this.queue.stop();
    this.rounds.stop();
    this.unobserve?.();
    this.unobserve = undefined;
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.forceShutdown();
        resolve();
      }, 2_000);
      s.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
