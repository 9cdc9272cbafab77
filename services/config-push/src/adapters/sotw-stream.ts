import { type CachedResource, encodeSotwBody, type SotwRequest, TYPE, type TypeUrl, typeDescriptor, withNonce } from "@isthmus/xds";
import { type AnswerState, authorizedSecrets, BaseStream } from "./proxy-stream.js";
import type { Subscription } from "./subscriptions.js";
import { namesProblem, RefusedRequest } from "./xds-limits.js";

/** Per proxy and type: what it asked for, what it was sent, what it acked or nacked. */
export interface TypeState extends AnswerState {
  names: Set<string> | "*";
  /** The interned subscription the names come from (compared as raw bytes on each request). */
  sub?: Subscription;
}

/**
 * State-of-the-world ADS on one stream. A response carries every subscribed resource of a
 * type at the view's version (for types that are not full-state, only what changed since
 * the proxy's version), with a nonce; answers follow `applyAnswer`.
 */
export class SotwStream extends BaseStream<TypeState> {
  readonly protocol = "sotw";

  onRequest(req: SotwRequest): void {
    const type = req.type_url;
    const desc = this.served(type);
    if (!desc) return;
    let st = this.types.get(type);
    if (!st) {
      st = { names: "*" };
      this.types.set(type, st);
    }
    if (!this.answer(type, st, req.response_nonce, req.error_detail)) return;

    const raw = req.resource_names.raw;
    const checked = () => {
      const names = req.resource_names.decode();
      const problem = namesProblem(names, this.ctx.limits);
      if (problem) throw new RefusedRequest(problem);
      return names;
    };
    const subs = this.ctx.subscriptions;
    let sub: Subscription | undefined;
    if (raw.length === 0 && desc.wildcardInSotw) sub = undefined;
    else if (type === TYPE.secret) sub = subs.intern(authorizedSecrets(this.info, checked(), st, this.ctx.log));
    else if (st.sub?.raw?.equals(raw)) sub = st.sub;
    else sub = subs.internRaw(raw, checked);
    if (sub !== st.sub) {
      subs.release(st.sub);
      st.sub = sub;
    } else if (type === TYPE.secret) subs.release(sub); // interned again: one use too many
    const names = sub ? sub.names : "*";
    const changed = st.names !== names;
    st.names = names;
    const version = this.cache.version(type as TypeUrl);
    // A new subscription gets the full state; a proxy that is merely behind (its ACK of an
    // older version arrived after a push) gets what changed since then.
    if (changed || (st.sent !== version && st.nacked !== version)) this.send(type as TypeUrl, st, changed);
  }

  private send(type: TypeUrl, st: TypeState, full: boolean): boolean {
    const cache = this.cache;
    const version = cache.version(type);
    const names = st.names;
    // Only Listener and Cluster responses must carry the whole state; for routes, endpoints
    // and secrets the resources changed since the proxy's version are enough (what most
    // pushes are: one EDS change). Walk the (small) change set, not the (large) subscription.
    const base = !full && !typeDescriptor(type)?.fullStateInSotw && st.sent ? st.sent : "";
    const make = () => {
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
    };
    const key = `${type}\n${version}\n${base}\n${names === "*" ? "*" : (st.sub?.id ?? "")}`;
    const body = this.ctx.body ? this.ctx.body(cache, key, make) : make();
    if (body === null) {
      // Nothing this proxy subscribes to changed: it already holds the current state.
      st.sent = version;
      st.acked = version;
      return false;
    }
    if (body === undefined) return false;
    const nonce = this.ctx.nextNonce();
    const msg = withNonce(body, nonce);
    if (!this.writer.write(msg, type)) return false;
    st.sent = version;
    st.nonce = nonce;
    this.ctx.callbacks.sent?.(this, type, msg.length);
    return true;
  }

  flush(): boolean {
    let wrote = false;
    for (const type of this.pending) {
      const st = this.types.get(type);
      const version = this.cache.version(type);
      if (st && st.sent !== version && st.nacked !== version) wrote = this.send(type, st, false) || wrote;
    }
    this.pending.clear();
    return wrote;
  }
}
