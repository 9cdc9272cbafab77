import { X509Certificate } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { type BusLogger, silentLogger } from "@isthmus/bus";
import { parseSpiffeId } from "@isthmus/pki";
import { fastAdsServiceDefinition, type SnapshotCache, type SotwRequest, type TypeUrl } from "@isthmus/xds";
import { checkProxyIdentity, type ProxyInfo, parseNode, type XdsNode } from "../domain/proxy.js";
import { type DeltaRequest, DeltaStream } from "./delta-ads.js";
import type { ProxyStream, StreamContext, StreamIdentity } from "./proxy-stream.js";
import { PushQueue } from "./push-queue.js";
import { PushRounds } from "./push-rounds.js";
import { BoundedWriter } from "./send-queue.js";
import { SotwStream } from "./sotw-stream.js";
import { SubscriptionSets } from "./subscriptions.js";
import { nodeIdProblem, RefusedRequest, XDS_LIMITS, type XdsLimits } from "./xds-limits.js";
import { xdsMetrics } from "./xds-metrics.js";

/** How proxies are given their view of the mesh. */
export interface ViewSource {
  acquire(p: ProxyInfo): SnapshotCache;
  release(cache: SnapshotCache): void;
}

/**
 * What the server tells its user, as go-control-plane's Callbacks: every hook is optional
 * and runs on the event loop, so it must be quick.
 */
export interface AdsCallbacks {
  /** A stream was admitted (its first request named an acceptable node). */
  onStreamOpen?(s: ProxyStream): void;
  /** A stream was refused at admission, with the reason its client was given. */
  onStreamRefused?(node: string, peer: string, reason: string): void;
  /** An admitted stream ended, failed or was cancelled. */
  onStreamClosed?(s: ProxyStream): void;
  /** A response of this type and size was written. */
  onStreamResponse?(s: ProxyStream, type: string, bytes: number): void;
  /** The proxy answered the latest response of a type: ACK, or NACK when `nack`. */
  onAnswer?(s: ProxyStream, type: string, nack: boolean): void;
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
/** A connected proxy's stream, either protocol. */
export type Connection = SotwStream | DeltaStream;

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
 * ADS over gRPC, state of the world and delta: the gRPC lifecycle, admission (identity and
 * limits), the registry of connected streams, and fan-out — a view's cache change goes to
 * the streams of that view whose types changed, at most `maxConcurrentPushes` unanswered at
 * a time. What a stream does with its requests is SotwStream's or DeltaStream's.
 */
export class AdsServer {
  readonly proxies = new Map<Stream<SotwRequest>, SotwStream>();
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
  readonly queue: PushQueue;
  private readonly log: BusLogger;
  private readonly ctx: StreamContext;
  /** The user's hooks (status publishing, tools). */
  callbacks: AdsCallbacks = {};
  /** Told whenever a proxy connects, is sent something, ACKs, NACKs or goes away (what proxy status shows). */
  onStatus: (p: Connection, connected: boolean) => void = () => {};

  constructor(
    private readonly views: ViewSource,
    private readonly o: AdsServerOptions,
  ) {
    this.log = o.log ?? silentLogger;
    this.limits = { ...XDS_LIMITS, ...o.limits };
    this.queue = new PushQueue(o.maxConcurrentPushes ?? 1_000, o.ackTimeoutMs ?? 5_000, (c, wrote) => this.rounds.flushed(c, wrote));
    this.ctx = {
      nextNonce: () => String(++this.nonce),
      limits: this.limits,
      log: this.log,
      subscriptions: new SubscriptionSets(),
      body: (cache, key, make) => this.body(cache, key, make),
      callbacks: {
        sent: (s, type, bytes) => {
          this.responses++;
          this.bytesSent += bytes;
          xdsMetrics.sent(type, bytes, this.rounds.queuedAt(s));
          this.callbacks.onStreamResponse?.(s, type, bytes);
          this.onStatus(s as Connection, true);
        },
        answered: (s, type, nack) => {
          if (nack) xdsMetrics.rejected(type);
          s.writer.answered(type);
          this.queue.done(s);
          this.rounds.answered(s);
          this.callbacks.onAnswer?.(s, type, nack);
          this.onStatus(s as Connection, true);
        },
      },
    };
  }

  /** Every connected stream, both protocols. */
  *streams(): Iterable<Connection> {
    yield* this.proxies.values();
    yield* this.delta;
  }

  /** Distinct subscriptions held by the connected streams (interned, shared). */
  get subscriptionCount(): number {
    return this.ctx.subscriptions.size;
  }

  /** The streams connected with this node id (usually one; a restarted proxy may briefly have two). */
  connectionsOf(id: string): ReadonlySet<Connection> {
    return this.byId.get(id) ?? new Set();
  }

  /** Identify a stream's proxy on its first request; undefined (and the stream ended with the reason) if it may not connect. */
  private admit(stream: Stream<unknown>, node: XdsNode | undefined): { who: StreamIdentity; cache: SnapshotCache; writer: BoundedWriter } | undefined {
    const info = parseNode(node);
    const invalid = nodeIdProblem(info.id, this.limits);
    const reason = invalid ?? checkProxyIdentity(info, peerIdentity(stream), { mesh: this.o.mesh, trustDomain: this.o.trustDomain });
    if (reason) {
      this.refusedStreams++;
      this.log.warn({ proxy: info.id.slice(0, 200), peer: stream.getPeer(), reason }, "xDS stream refused");
      this.callbacks.onStreamRefused?.(info.id, stream.getPeer(), reason);
      refuse(stream, invalid ? grpc.status.INVALID_ARGUMENT : grpc.status.PERMISSION_DENIED, reason);
      return undefined;
    }
    return {
      who: { info, connId: `${info.id}-${++this.connSeq}`, version: proxyVersion(node) },
      cache: this.views.acquire(info),
      writer: this.writer(stream, info.id),
    };
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

  private opened(c: Connection): void {
    let set = this.byCache.get(c.cache);
    if (!set) {
      set = new Set();
      this.byCache.set(c.cache, set);
    }
    set.add(c);
    let same = this.byId.get(c.id);
    if (!same) {
      same = new Set();
      this.byId.set(c.id, same);
    }
    same.add(c);
    this.callbacks.onStreamOpen?.(c);
  }

  private closed(c: Connection): void {
    const set = this.byCache.get(c.cache);
    set?.delete(c);
    if (set && !set.size) this.byCache.delete(c.cache);
    const same = this.byId.get(c.id);
    same?.delete(c);
    if (same && !same.size) this.byId.delete(c.id);
    c.release();
    this.queue.forget(c);
    this.rounds.leave(c);
    this.views.release(c.cache);
    this.callbacks.onStreamClosed?.(c);
    this.onStatus(c, false);
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

  /** The handler of one ADS method: admit on the first request, then hand every request to the stream. */
  private serve<Req extends { node?: unknown }, S extends Connection>(
    make: (a: NonNullable<ReturnType<AdsServer["admit"]>>) => S,
    registry: { add(stream: Stream<Req>, s: S): void; remove(stream: Stream<Req>, s: S): boolean },
    handle: (s: S, req: Req) => void,
  ): (stream: Stream<Req>) => void {
    return (stream) => {
      let s: S | undefined;
      stream.on("data", (req: Req) => {
        try {
          if (!s) {
            const admitted = this.admit(stream, req.node as XdsNode | undefined);
            if (!admitted) return;
            s = make(admitted);
            registry.add(stream, s);
            this.opened(s);
          }
          handle(s, req);
        } catch (err) {
          if (err instanceof RefusedRequest) {
            this.log.warn({ peer: stream.getPeer(), reason: err.message }, "xDS request refused");
            refuse(stream, grpc.status.INVALID_ARGUMENT, err.message);
          } else this.log.warn({ err: String(err) }, "bad discovery request");
        }
      });
      onStreamGone(stream, () => {
        if (s && registry.remove(stream, s)) this.closed(s);
      });
    };
  }

  async listen(host: string, port: number, creds = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": this.limits.maxRequestBytes });
    this.unobserve ??= xdsMetrics.observeConnected(() => {
      const n = new Map<string, number>();
      for (const s of this.streams()) {
        const key = `${s.version}\n${s.protocol}`;
        n.set(key, (n.get(key) ?? 0) + 1);
      }
      return n;
    });
    server.addService(fastAdsServiceDefinition(), {
      StreamAggregatedResources: this.serve<SotwRequest, SotwStream>(
        (a) => new SotwStream(a.writer, a.who, a.cache, this.ctx),
        { add: (stream, s) => this.proxies.set(stream, s), remove: (stream) => this.proxies.delete(stream) },
        (s, req) => s.onRequest(req),
      ),
      DeltaAggregatedResources: this.serve<DeltaRequest, DeltaStream>(
        (a) => new DeltaStream(a.writer, a.who, a.cache, this.ctx),
        { add: (_stream, s) => this.delta.add(s), remove: (_stream, s) => this.delta.delete(s) },
        (s, req) => s.onRequest(req),
      ),
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
