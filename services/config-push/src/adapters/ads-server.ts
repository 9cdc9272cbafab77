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
  withNonce,
} from "@isthmus/xds";
import { authorizeSecret, checkProxyIdentity, type ProxyInfo, parseNode, type XdsNode } from "../domain/proxy.js";
import { type DeltaRequest, DeltaStream } from "./delta-ads.js";
import { PushQueue } from "./push-queue.js";

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
  info: ProxyInfo;
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
  log?: BusLogger;
}

const WILDCARD_TYPES = new Set<string>([TYPE.listener, TYPE.cluster]);
const KNOWN = new Set<string>(Object.values(TYPE));
type Stream<T> = grpc.ServerDuplexStream<T, unknown>;

export interface Subscription {
  id: number;
  names: Set<string>;
  /** The names as they came on the wire (state of the world), to recognise the same list without decoding it. */
  raw?: Buffer;
}

/**
 * Subscriptions are mostly identical across proxies (every sidecar of a namespace asks for
 * the same clusters): one shared, frozen set per distinct list instead of a copy per proxy.
 * Unused entries are dropped when their last proxy goes.
 */
export class SubscriptionSets {
  private readonly byKey = new Map<string, Subscription & { users: number; key: string }>();
  private next = 0;

  private get(key: string, make: () => Subscription): Subscription {
    let s = this.byKey.get(key);
    if (!s) {
      s = { ...make(), users: 0, key };
      this.byKey.set(key, s);
    }
    s.users++;
    return s;
  }

  /** Keyed in the order given: proxies of one kind list their names in the same order. */
  intern(names: string[]): Subscription {
    return this.get(`n${names.join("\n")}`, () => ({ id: ++this.next, names: new Set(names) }));
  }

  internRaw(raw: Buffer, decode: () => string[]): Subscription {
    return this.get(`r${raw.toString("latin1")}`, () => ({ id: ++this.next, names: new Set(decode()), raw: Buffer.from(raw) }));
  }

  release(s: Subscription | undefined): void {
    const e = s as (Subscription & { users: number; key: string }) | undefined;
    if (e && --e.users <= 0 && this.byKey.get(e.key) === e) this.byKey.delete(e.key);
  }

  get size(): number {
    return this.byKey.size;
  }
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
  private readonly byCache = new Map<SnapshotCache, Set<ProxyConnection | DeltaStream>>();
  private server: grpc.Server | undefined;
  private nonce = 0;
  responses = 0;
  bytesSent = 0;
  refusedStreams = 0;
  private readonly subscriptions = new SubscriptionSets();
  readonly queue: PushQueue;
  private readonly log: BusLogger;
  /** Told whenever a proxy connects, is sent something, ACKs, NACKs or goes away. */
  onStatus: (p: ProxyConnection | DeltaStream, connected: boolean) => void = () => {};

  constructor(
    private readonly views: ViewSource,
    private readonly o: AdsServerOptions,
  ) {
    this.log = o.log ?? silentLogger;
    this.queue = new PushQueue(o.maxConcurrentPushes ?? 1_000);
  }

  /** Identify a stream's proxy on its first request; undefined (and the stream ended with the reason) if it may not connect. */
  private admit(stream: Stream<unknown>, node: XdsNode | undefined): { info: ProxyInfo; cache: SnapshotCache } | undefined {
    const info = parseNode(node);
    const reason = checkProxyIdentity(info, peerIdentity(stream), { mesh: this.o.mesh, trustDomain: this.o.trustDomain });
    if (reason) {
      this.refusedStreams++;
      this.log.warn({ proxy: info.id, peer: stream.getPeer(), reason }, "xDS stream refused");
      stream.emit("error", { code: grpc.status.PERMISSION_DENIED, details: reason });
      return undefined;
    }
    return { info, cache: this.views.acquire(info) };
  }

  private track(cache: SnapshotCache, c: ProxyConnection | DeltaStream): void {
    let set = this.byCache.get(cache);
    if (!set) {
      set = new Set();
      this.byCache.set(cache, set);
    }
    set.add(c);
  }

  private untrack(cache: SnapshotCache, c: ProxyConnection | DeltaStream): void {
    const set = this.byCache.get(cache);
    set?.delete(c);
    if (set && !set.size) this.byCache.delete(cache);
    this.queue.forget(c);
    this.views.release(cache);
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

  private send(stream: Stream<DiscoveryRequest>, p: ProxyConnection, type: TypeUrl, st: TypeState, full = true): boolean {
    const cache = p.cache;
    const version = cache.version(type);
    const names = st.names;
    // Only Listener and Cluster responses must carry the whole state; for routes, endpoints
    // and secrets the resources changed since the proxy's version are enough (what most
    // pushes are: one EDS change). Walk the (small) change set, not the (large) subscription.
    const base = !full && !WILDCARD_TYPES.has(type) && st.sent ? st.sent : "";
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
    st.sent = version;
    st.nonce = String(++this.nonce);
    this.responses++;
    const msg = withNonce(body, st.nonce);
    this.bytesSent += msg.length;
    stream.write(msg);
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
        info,
        connectedAt: new Date(),
        types: new Map(),
        cache,
        pending: new Set(),
        flush: () => {
          let wrote = false;
          for (const type of conn.pending) {
            const st = conn.types.get(type);
            if (st && st.sent !== cache.version(type) && st.nacked !== cache.version(type)) wrote = this.send(stream, conn, type, st, false) || wrote;
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
    if (!KNOWN.has(type)) {
      this.log.warn({ proxy: p.id, type }, "request for an unknown resource type ignored");
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
        st.error = req.error_detail.message;
        this.log.warn({ proxy: p.id, type, version: st.sent, error: st.error }, "NACK: proxy keeps its last good config");
      } else {
        st.acked = req.version_info;
        st.nacked = undefined;
        st.error = undefined;
      }
      this.queue.done(p);
      this.onStatus(p, true);
    }
    const raw = req.resource_names.raw;
    let sub: Subscription | undefined;
    if (raw.length === 0 && WILDCARD_TYPES.has(type)) sub = undefined;
    else if (type === TYPE.secret) sub = this.subscriptions.intern(this.authorizedSecrets(p, req.resource_names.decode(), st));
    else if (st.sub?.raw?.equals(raw)) sub = st.sub;
    else sub = this.subscriptions.internRaw(raw, req.resource_names.decode);
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
    if (changed || (st.sent !== version && st.nacked !== version)) this.send(stream, p, type as TypeUrl, st, changed);
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
      if (c.pending.size) this.queue.add(c);
    }
    this.queue.drain();
  }

  async listen(host: string, port: number, creds = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
    server.addService(fastAdsServiceDefinition(), {
      StreamAggregatedResources: (stream: Stream<DiscoveryRequest>) => {
        stream.on("data", (req: DiscoveryRequest) => {
          try {
            this.onRequest(stream, req);
          } catch (err) {
            this.log.warn({ err: String(err) }, "bad discovery request");
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
              d = new DeltaStream(stream, admitted.info, admitted.cache, () => String(++this.nonce), {
                log: this.log,
                countBytes: (n) => {
                  this.bytesSent += n;
                },
                authorizeSecrets: (names, st) => this.authorizedSecrets(d as DeltaStream, names, st),
                acked: (s) => {
                  this.queue.done(s);
                  this.onStatus(s, true);
                },
                sent: (s) => this.onStatus(s, true),
                subscriptions: this.subscriptions,
                body: (key, make) => this.body(admitted.cache, key, make),
              });
              this.delta.add(d);
              this.track(admitted.cache, d);
            }
            d.onRequest(req);
          } catch (err) {
            this.log.warn({ err: String(err) }, "bad delta discovery request");
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
