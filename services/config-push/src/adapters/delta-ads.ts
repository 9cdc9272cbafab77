import { type CachedResource, encodeDeltaBody, TYPE, type TypeUrl, withNonce } from "@isthmus/xds";
import type { XdsNode } from "../domain/proxy.js";
import { type AnswerState, authorizedSecrets, BaseStream } from "./proxy-stream.js";
import type { Subscription } from "./subscriptions.js";
import { namesProblem, RefusedRequest } from "./xds-limits.js";

export interface DeltaRequest {
  node?: XdsNode;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail?: { message?: string } | null;
}

export interface DeltaTypeState extends AnswerState {
  wildcard: boolean;
  names: Set<string>;
  sub?: Subscription;
  /**
   * The cache version up to which the proxy holds every resource of its subscription. No
   * per-resource map is kept per proxy: what changed since then is the cache's change set.
   */
  syncedAt?: string;
  /** What a reconnecting proxy says it holds, until its first response. */
  initial?: Map<string, string>;
}

const NONE = new Set<string>();

type Change = { resources: Array<{ name: string; version: string; resource: CachedResource["any"] }>; removed: string[] };

/**
 * Incremental (delta) ADS on one stream: only resources changed since the proxy's synced
 * version are sent, removals are named, and a reconnecting proxy's initial_resource_versions
 * spare it everything it already holds.
 */
export class DeltaStream extends BaseStream<DeltaTypeState> {
  readonly protocol = "delta";

  onRequest(req: DeltaRequest): void {
    const type = req.type_url;
    const desc = this.served(type);
    if (!desc) return;
    const limits = this.ctx.limits;
    const problem =
      namesProblem(req.resource_names_subscribe, limits) ??
      namesProblem(req.resource_names_unsubscribe, limits) ??
      namesProblem(Object.keys(req.initial_resource_versions ?? {}), limits);
    if (problem) throw new RefusedRequest(problem);
    let st = this.types.get(type);
    if (!st) {
      const subscribe = req.resource_names_subscribe;
      const initial = Object.entries(req.initial_resource_versions ?? {});
      st = {
        wildcard: desc.wildcardInSotw && (subscribe.length === 0 || subscribe.includes("*")),
        names: NONE,
        ...(initial.length ? { initial: new Map(initial) } : {}),
      };
      this.types.set(type, st);
    }
    if (!this.answer(type, st, req.response_nonce, req.error_detail)) return;
    let subscribe = req.resource_names_subscribe.filter((n) => n !== "*");
    if (type === TYPE.secret) subscribe = authorizedSecrets(this.info, subscribe, st, this.ctx.log);
    const added = subscribe.filter((n) => !st.names.has(n));
    const dropped = req.resource_names_unsubscribe.filter((n) => n !== "*" && st.names.has(n));
    if (req.resource_names_unsubscribe.includes("*")) st.wildcard = false;
    if (added.length || dropped.length) {
      const gone = new Set(dropped);
      const next = [...st.names].filter((n) => !gone.has(n)).concat(added);
      const sub = this.ctx.subscriptions.intern(next);
      this.ctx.subscriptions.release(st.sub);
      st.sub = sub;
      st.names = sub.names;
    }
    if (!st.syncedAt) this.push(type as TypeUrl);
    else if (added.length) this.sendNames(type as TypeUrl, st, added);
  }

  /** Newly subscribed names of a synced proxy: just those resources. */
  private sendNames(type: TypeUrl, st: DeltaTypeState, names: string[]): void {
    const resources: Change["resources"] = [];
    for (const n of names) {
      const r = this.cache.getOne(type, n);
      if (r) resources.push({ name: n, version: r.version, resource: r.any });
    }
    if (resources.length) this.write(type, st, encodeDeltaBody(this.cache.version(type), resources, type, []));
  }

  private changeSince(type: TypeUrl, st: DeltaTypeState, from: string): Change | undefined {
    const changed = this.cache.changedSince(type, from);
    if (!changed) return undefined;
    const out: Change = { resources: [], removed: [] };
    for (const name of changed) {
      if (!st.wildcard && !st.names.has(name)) continue;
      const r = this.cache.getOne(type, name);
      if (r) out.resources.push({ name, version: r.version, resource: r.any });
      else out.removed.push(name);
    }
    return out;
  }

  private everything(type: TypeUrl, st: DeltaTypeState): Change {
    const out: Change = { resources: [], removed: [] };
    const current = this.cache.get(type, st.wildcard ? undefined : st.names);
    for (const r of current) if (st.initial?.get(r.name) !== r.version) out.resources.push({ name: r.name, version: r.version, resource: r.any });
    if (st.initial) {
      const now = new Set(current.map((r) => r.name));
      // What it holds and no longer exists (or never did): tell the proxy it is gone.
      for (const name of st.initial.keys()) if (!now.has(name)) out.removed.push(name);
    }
    return out;
  }

  /** Bring one type up to the cache's version; false when there was nothing to send. */
  push(type: TypeUrl, incremental = false): boolean {
    const st = this.types.get(type);
    if (!st) return false;
    const version = this.cache.version(type);
    if (incremental && st.syncedAt === version) return false;
    const encode = (c: Change | undefined) =>
      c ? (c.resources.length || c.removed.length ? encodeDeltaBody(version, c.resources, type, c.removed) : null) : undefined;
    const subKey = st.wildcard ? "*" : String(st.sub?.id ?? "");
    let body: Buffer | null | undefined;
    const from = st.syncedAt;
    if (incremental && from && !st.initial) {
      const make = () => encode(this.changeSince(type, st, from));
      body = this.ctx.body ? this.ctx.body(this.cache, `d\n${type}\n${version}\n${from}\n${subKey}`, make) : make();
    }
    if (body === undefined) {
      const make = () => encode(this.everything(type, st));
      body = st.initial || !this.ctx.body ? make() : this.ctx.body(this.cache, `d\n${type}\n${version}\n\n${subKey}`, make);
    }
    st.initial = undefined;
    st.syncedAt = version;
    if (!body) {
      // It already holds all of it.
      if (!st.sent || st.acked === st.sent) st.sent = st.acked = version;
      return false;
    }
    return this.write(type, st, body);
  }

  private write(type: TypeUrl, st: DeltaTypeState, body: Buffer): boolean {
    const nonce = this.ctx.nextNonce();
    const msg = withNonce(body, nonce);
    if (!this.writer.write(msg, type)) return false;
    st.nonce = nonce;
    st.sent = this.cache.version(type);
    this.ctx.callbacks.sent?.(this, type, msg.length);
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
