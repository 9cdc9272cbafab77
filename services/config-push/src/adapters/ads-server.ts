import * as grpc from "@grpc/grpc-js";
import { type BusLogger, silentLogger } from "@isthmus/bus";
import { adsServiceDefinition, type CachedResource, type SnapshotCache, TYPE, type TypeUrl } from "@isthmus/xds";
import { type DeltaRequest, DeltaStream } from "./delta-ads.js";

interface DiscoveryRequest {
  version_info: string;
  node?: { id?: string };
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code?: number; message?: string } | null;
}

/** Per proxy and type: what it asked for, what it was sent, what it acked or nacked. */
export interface TypeState {
  names: Set<string> | "*";
  sent?: string;
  nonce?: string;
  acked?: string;
  nacked?: string;
  error?: string;
}

export interface ProxyConnection {
  id: string;
  connectedAt: Date;
  types: Map<string, TypeState>;
}

const WILDCARD_TYPES = new Set<string>([TYPE.listener, TYPE.cluster]);

/**
 * Subscriptions are mostly identical across proxies (every sidecar of a namespace asks for
 * the same clusters): one shared, frozen set per distinct list instead of a copy per proxy.
 */
export class SubscriptionSets {
  private readonly sets = new Map<string, Set<string>>();
  intern(names: string[]): Set<string> {
    const key = names.length < 2 ? names.join("\n") : [...names].sort().join("\n");
    let s = this.sets.get(key);
    if (!s) {
      s = new Set(names);
      this.sets.set(key, s);
    }
    return s;
  }
}
const KNOWN = new Set<string>(Object.values(TYPE));

/**
 * State-of-the-world ADS. A response carries every subscribed resource of a type at the
 * cache's version, with a nonce; a request echoing that nonce is an ACK, or a NACK when it
 * has error_detail — a NACKed proxy is not sent that version again and stays on its last
 * good one. Cache changes go only to proxies whose subscribed types changed.
 */
export class AdsServer {
  readonly proxies = new Map<grpc.ServerDuplexStream<DiscoveryRequest, unknown>, ProxyConnection>();
  private server: grpc.Server | undefined;
  private nonce = 0;
  private unsubscribe: (() => void) | undefined;
  responses = 0;
  bytesSent = 0;
  private readonly subscriptions = new SubscriptionSets();
  /** Told whenever a proxy connects, is sent something, ACKs, NACKs or goes away. */
  onStatus: (p: ProxyConnection, connected: boolean) => void = () => {};

  constructor(
    private readonly cache: SnapshotCache,
    private readonly log: BusLogger = silentLogger,
  ) {}

  private send(stream: grpc.ServerDuplexStream<DiscoveryRequest, unknown>, p: ProxyConnection, type: TypeUrl, st: TypeState, full = true): void {
    const version = this.cache.version(type);
    let resources: CachedResource[] | undefined;
    // Only Listener and Cluster responses must carry the whole state; for routes and
    // endpoints the changed resources are enough (what most pushes are: one EDS change).
    // Walk the (small) change set, not the proxy's (large) subscription.
    if (!full && !WILDCARD_TYPES.has(type) && st.sent) {
      const changed = this.cache.changedSince(type, st.sent);
      if (changed) {
        const names = st.names;
        resources = [];
        for (const n of changed) {
          if (names !== "*" && !names.has(n)) continue;
          const r = this.cache.getOne(type, n);
          if (r) resources.push(r);
        }
        if (!resources.length) {
          // Nothing this proxy subscribes to changed: it already holds the current state.
          st.sent = version;
          st.acked = version;
          return;
        }
      }
    }
    resources ??= this.cache.get(type, st.names === "*" ? undefined : st.names);
    st.sent = version;
    st.nonce = String(++this.nonce);
    this.responses++;
    for (const r of resources) this.bytesSent += r.any.value.length;
    stream.write({ version_info: version, resources: resources.map((r) => r.any), type_url: type, nonce: st.nonce });
    this.log.debug({ proxy: p.id, type, version, count: resources.length }, "pushed");
    this.onStatus(p, true);
  }

  private onRequest(stream: grpc.ServerDuplexStream<DiscoveryRequest, unknown>, req: DiscoveryRequest): void {
    let p = this.proxies.get(stream);
    if (!p) {
      p = { id: req.node?.id ?? "unknown", connectedAt: new Date(), types: new Map() };
      this.proxies.set(stream, p);
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
      if (req.error_detail?.message) {
        st.nacked = st.sent;
        st.error = req.error_detail.message;
        this.log.warn({ proxy: p.id, type, version: st.sent, error: st.error }, "NACK: proxy keeps its last good config");
      } else {
        st.acked = req.version_info;
        st.nacked = undefined;
        st.error = undefined;
      }
      this.onStatus(p, true);
    }
    const names = req.resource_names.length === 0 && WILDCARD_TYPES.has(type) ? "*" : new Set(req.resource_names);
    const changed =
      names === "*" ? st.names !== "*" : st.names === "*" || names.size !== st.names.size || [...names].some((n) => !(st.names as Set<string>).has(n));
    st.names = names;
    const version = this.cache.version(type as TypeUrl);
    if (changed || (st.sent !== version && st.nacked !== version)) this.send(stream, p, type as TypeUrl, st);
  }

  /** Delta (incremental) streams. */
  readonly delta = new Set<DeltaStream>();

  private push(types: TypeUrl[]): void {
    for (const d of this.delta) d.pushAll(types);
    for (const [stream, p] of this.proxies) {
      for (const type of types) {
        const st = p.types.get(type);
        if (st && st.sent !== this.cache.version(type)) this.send(stream, p, type, st, false);
      }
    }
  }

  async listen(host: string, port: number, creds = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
    server.addService(adsServiceDefinition(), {
      StreamAggregatedResources: (stream: grpc.ServerDuplexStream<DiscoveryRequest, unknown>) => {
        stream.on("data", (req: DiscoveryRequest) => {
          try {
            this.onRequest(stream, req);
          } catch (err) {
            this.log.warn({ err: String(err) }, "bad discovery request");
          }
        });
        const gone = () => {
          const p = this.proxies.get(stream);
          if (p && this.proxies.delete(stream)) this.onStatus(p, false);
        };
        stream.on("end", () => {
          gone();
          stream.end();
        });
        stream.on("error", gone);
        stream.on("cancelled", gone);
      },
      DeltaAggregatedResources: (stream: grpc.ServerDuplexStream<DeltaRequest, unknown>) => {
        const d = new DeltaStream(
          stream,
          this.cache,
          () => String(++this.nonce),
          this.log,
          (n) => {
            this.bytesSent += n;
          },
        );
        this.delta.add(d);
        stream.on("data", (req: DeltaRequest) => {
          try {
            d.onRequest(req);
          } catch (err) {
            this.log.warn({ err: String(err) }, "bad delta discovery request");
          }
        });
        const gone = () => this.delta.delete(d);
        stream.on("end", () => {
          gone();
          stream.end();
        });
        stream.on("error", gone);
        stream.on("cancelled", gone);
      },
    });
    this.unsubscribe = this.cache.onChange((types) => this.push(types));
    this.server = server;
    return new Promise((resolve, reject) => server.bindAsync(`${host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
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
