import type * as grpc from "@grpc/grpc-js";
import { type BusLogger, silentLogger } from "@isthmus/bus";
import { type CachedResource, type SnapshotCache, TYPE, type TypeUrl } from "@isthmus/xds";
import type { ProxyInfo, XdsNode } from "../domain/proxy.js";

export interface DeltaRequest {
  node?: XdsNode;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail?: { message?: string } | null;
}

export interface DeltaTypeState {
  wildcard: boolean;
  names: Set<string>;
  /** name -> version the proxy has (from initial_resource_versions, then what we sent). */
  known: Map<string, string>;
  /** The cache version this stream was last brought up to. */
  at?: string;
  nonce?: string;
  /** Cache version of the last response, and what the proxy said about it (as in state of the world). */
  sent?: string;
  acked?: string;
  nacked?: string;
  error?: string;
  nackedNonce?: string;
  ackedNonce?: string;
}

const WILDCARD_TYPES = new Set<string>([TYPE.listener, TYPE.cluster]);
const KNOWN = new Set<string>(Object.values(TYPE));

export interface DeltaStreamOptions {
  log?: BusLogger;
  countBytes?: (n: number) => void;
  /** SDS names this proxy may have (the rest is refused and reported in st.error). */
  authorizeSecrets?: (names: string[], st: DeltaTypeState) => string[];
  /** The proxy answered a response (ACK or NACK). */
  acked?: (s: DeltaStream) => void;
}

/**
 * Incremental (delta) ADS on one stream: only resources whose version differs from what
 * the proxy has are sent, removals are named, and a reconnecting proxy's
 * initial_resource_versions spare it everything it already holds.
 */
export class DeltaStream {
  readonly types = new Map<string, DeltaTypeState>();
  readonly id: string;
  readonly connectedAt = new Date();
  readonly pending = new Set<TypeUrl>();
  resourcesSent = 0;
  private readonly log: BusLogger;

  constructor(
    private readonly stream: grpc.ServerDuplexStream<DeltaRequest, unknown>,
    readonly info: ProxyInfo,
    readonly cache: SnapshotCache,
    private readonly nextNonce: () => string,
    private readonly o: DeltaStreamOptions = {},
  ) {
    this.id = info.id;
    this.log = o.log ?? silentLogger;
  }

  onRequest(req: DeltaRequest): void {
    const type = req.type_url;
    if (!KNOWN.has(type)) {
      this.log.warn({ proxy: this.id, type }, "delta request for an unknown resource type ignored");
      return;
    }
    let st = this.types.get(type);
    if (!st) {
      const subscribe = req.resource_names_subscribe;
      st = {
        wildcard: WILDCARD_TYPES.has(type) && (subscribe.length === 0 || subscribe.includes("*")),
        names: new Set(),
        known: new Map(Object.entries(req.initial_resource_versions ?? {})),
      };
      this.types.set(type, st);
    }
    if (req.response_nonce) {
      if (req.response_nonce !== st.nonce) return;
      this.o.acked?.(this);
      if (req.error_detail?.message) {
        st.nackedNonce = req.response_nonce;
        st.nacked = st.sent;
        st.error = req.error_detail.message;
        this.log.warn({ proxy: this.id, type, error: st.error }, "delta NACK");
        return;
      }
      st.ackedNonce = req.response_nonce;
      st.acked = st.sent;
      st.nacked = undefined;
      st.error = undefined;
    }
    let subscribe = req.resource_names_subscribe;
    if (type === TYPE.secret && this.o.authorizeSecrets) subscribe = this.o.authorizeSecrets(subscribe, st);
    for (const n of subscribe) if (n !== "*") st.names.add(n);
    for (const n of req.resource_names_unsubscribe) {
      if (n === "*") st.wildcard = false;
      st.names.delete(n);
      st.known.delete(n);
    }
    this.push(type as TypeUrl);
  }

  /** Send what changed for one type; false when nothing did. */
  push(type: TypeUrl, incremental = false): boolean {
    const st = this.types.get(type);
    if (!st) return false;
    const resources: Array<{ name: string; version: string; resource: CachedResource["any"] }> = [];
    const removed: string[] = [];
    const changed = incremental && st.at ? this.cache.changedSince(type, st.at) : undefined;
    if (changed) {
      // The common case, a few resources changed: look at those only.
      for (const name of changed) {
        if (!st.wildcard && !st.names.has(name)) continue;
        const r = this.cache.getOne(type, name);
        if (r && st.known.get(name) !== r.version) {
          resources.push({ name, version: r.version, resource: r.any });
          st.known.set(name, r.version);
        } else if (!r && st.known.delete(name)) removed.push(name);
      }
    } else {
      const current = new Map(this.cache.get(type, st.wildcard ? undefined : st.names).map((r) => [r.name, r]));
      for (const [name, r] of current) {
        if (st.known.get(name) === r.version) continue;
        resources.push({ name, version: r.version, resource: r.any });
        st.known.set(name, r.version);
      }
      for (const name of [...st.known.keys()]) {
        if (current.has(name)) continue;
        // Gone from the cache (or never there): tell the proxy it does not exist.
        removed.push(name);
        st.known.delete(name);
      }
    }
    st.at = this.cache.version(type);
    if (!resources.length && !removed.length) {
      // It already holds all of it.
      if (!st.sent || st.acked === st.sent) st.sent = st.acked = st.at;
      return false;
    }
    st.nonce = this.nextNonce();
    st.sent = st.at;
    this.resourcesSent += resources.length;
    for (const r of resources) this.o.countBytes?.(r.resource.value.length);
    this.stream.write({ system_version_info: st.at, resources, type_url: type, removed_resources: removed, nonce: st.nonce });
    return true;
  }

  /** Push the pending types (the push queue calls this when it is this stream's turn). */
  flush(): boolean {
    let wrote = false;
    for (const t of this.pending) if (this.types.has(t)) wrote = this.push(t, true) || wrote;
    this.pending.clear();
    return wrote;
  }
}
