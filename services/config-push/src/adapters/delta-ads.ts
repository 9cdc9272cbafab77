import type * as grpc from "@grpc/grpc-js";
import { type BusLogger, silentLogger } from "@isthmus/bus";
import { type CachedResource, type SnapshotCache, TYPE, type TypeUrl } from "@isthmus/xds";

export interface DeltaRequest {
  node?: { id?: string };
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail?: { message?: string } | null;
}

interface DeltaTypeState {
  wildcard: boolean;
  names: Set<string>;
  /** name -> version the proxy has (from initial_resource_versions, then what we sent). */
  known: Map<string, string>;
  /** The cache version this stream was last brought up to. */
  at?: string;
  nonce?: string;
  nackedNonce?: string;
  error?: string;
  ackedNonce?: string;
}

const WILDCARD_TYPES = new Set<string>([TYPE.listener, TYPE.cluster]);
const KNOWN = new Set<string>(Object.values(TYPE));

/**
 * Incremental (delta) ADS on one stream: only resources whose version differs from what
 * the proxy has are sent, removals are named, and a reconnecting proxy's
 * initial_resource_versions spare it everything it already holds.
 */
export class DeltaStream {
  readonly types = new Map<string, DeltaTypeState>();
  id = "unknown";
  resourcesSent = 0;

  constructor(
    private readonly stream: grpc.ServerDuplexStream<DeltaRequest, unknown>,
    private readonly cache: SnapshotCache,
    private readonly nextNonce: () => string,
    private readonly log: BusLogger = silentLogger,
    private readonly countBytes: (n: number) => void = () => {},
  ) {}

  onRequest(req: DeltaRequest): void {
    if (req.node?.id) this.id = req.node.id;
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
      if (req.error_detail?.message) {
        st.nackedNonce = req.response_nonce;
        st.error = req.error_detail.message;
        this.log.warn({ proxy: this.id, type, error: st.error }, "delta NACK");
        return;
      }
      st.ackedNonce = req.response_nonce;
      st.error = undefined;
    }
    for (const n of req.resource_names_subscribe) if (n !== "*") st.names.add(n);
    for (const n of req.resource_names_unsubscribe) {
      if (n === "*") st.wildcard = false;
      st.names.delete(n);
      st.known.delete(n);
    }
    this.push(type as TypeUrl);
  }

  /** Send what changed for one type; nothing when nothing did. */
  push(type: TypeUrl, incremental = false): void {
    const st = this.types.get(type);
    if (!st) return;
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
    if (!resources.length && !removed.length) return;
    st.nonce = this.nextNonce();
    this.resourcesSent += resources.length;
    for (const r of resources) this.countBytes(r.resource.value.length);
    this.stream.write({ system_version_info: this.cache.version(type), resources, type_url: type, removed_resources: removed, nonce: st.nonce });
  }

  pushAll(types: TypeUrl[]): void {
    for (const t of types) if (this.types.has(t)) this.push(t, true);
  }
}
