import { createHash } from "node:crypto";
import type { AnyMessage } from "./protos.js";
import type { TypeUrl } from "./resources/type-urls.js";

export interface CachedResource {
  name: string;
  version: string;
  any: AnyMessage;
}

export interface ResourceInput {
  /** Content hash of the input the resource is built from. */
  hash: string;
  build: () => AnyMessage;
}

/**
 * Encoded resources by type and input hash, shared by the caches of several views (proxyless
 * gRPC, Envoy, per network): a resource every view has is encoded once, not once per view.
 * Entries no view touched during the last rebuild are dropped by `sweep`.
 */
export class EncodeMemo {
  private readonly entries = new Map<string, { any: AnyMessage; gen: number }>();
  private gen = 0;
  encodes = 0;

  get(type: string, hash: string, build: () => AnyMessage): AnyMessage {
    const key = `${type}\0${hash}`;
    let e = this.entries.get(key);
    if (!e) {
      this.encodes++;
      e = { any: build(), gen: this.gen };
      this.entries.set(key, e);
    }
    e.gen = this.gen;
    return e.any;
  }

  /** Forget what was not used since the previous sweep. */
  sweep(): void {
    for (const [k, e] of this.entries) if (e.gen < this.gen) this.entries.delete(k);
    this.gen++;
  }
}

/**
 * The current resources per type. A resource is encoded once per version: an unchanged
 * input hash reuses the bytes already encoded, and the same Buffer is sent to every proxy.
 */
export class SnapshotCache {
  private readonly resources = new Map<TypeUrl, Map<string, CachedResource>>();
  private readonly versions = new Map<TypeUrl, string>();
  private readonly listeners = new Set<(changed: TypeUrl[]) => void>();
  /** Per type, the recent versions and which resource names each one changed (or removed). */
  private readonly history = new Map<TypeUrl, Array<{ version: string; changed: Set<string> }>>();
  private ownEncodes = 0;

  constructor(private readonly memo?: EncodeMemo) {}

  /** Resources encoded (by this cache, or by the memo it shares). */
  get encodes(): number {
    return this.memo ? this.memo.encodes : this.ownEncodes;
  }

  /**
   * Names changed (or removed) since `from`, up to the current version; undefined when
   * `from` is too old to know (send everything then).
   */
  changedSince(type: TypeUrl, from: string): Set<string> | undefined {
    const h = this.history.get(type) ?? [];
    const i = h.findIndex((e) => e.version === from);
    if (i < 0) return undefined;
    const out = new Set<string>();
    for (const e of h.slice(i + 1)) for (const n of e.changed) out.add(n);
    return out;
  }

  version(type: TypeUrl): string {
    return this.versions.get(type) ?? "";
  }

  getOne(type: TypeUrl, name: string): CachedResource | undefined {
    return this.resources.get(type)?.get(name);
  }

  get(type: TypeUrl, names?: Iterable<string>): CachedResource[] {
    const all = this.resources.get(type) ?? new Map<string, CachedResource>();
    if (!names) return [...all.values()];
    const out: CachedResource[] = [];
    for (const n of names) {
      const r = all.get(n);
      if (r) out.push(r);
    }
    return out;
  }

  /** Replace a type's resources; returns whether its version changed. */
  setType(type: TypeUrl, inputs: Map<string, ResourceInput>): boolean {
    const prev = this.resources.get(type) ?? new Map<string, CachedResource>();
    const next = new Map<string, CachedResource>();
    for (const [name, input] of inputs) {
      const old = prev.get(name);
      if (old && old.version === input.hash) {
        if (this.memo) this.memo.get(type, input.hash, () => old.any);
        next.set(name, old);
      } else if (this.memo) next.set(name, { name, version: input.hash, any: this.memo.get(type, input.hash, input.build) });
      else {
        this.ownEncodes++;
        next.set(name, { name, version: input.hash, any: input.build() });
      }
    }
    const h = createHash("sha256");
    for (const name of [...next.keys()].sort())
      h.update(name)
        .update("\0")
        .update((next.get(name) as CachedResource).version)
        .update("\n");
    const version = h.digest("base64url").slice(0, 16);
    this.resources.set(type, next);
    if (version === this.versions.get(type)) return false;
    const changed = new Set<string>();
    for (const [name, r] of next) if (prev.get(name)?.version !== r.version) changed.add(name);
    for (const name of prev.keys()) if (!next.has(name)) changed.add(name);
    const hist = this.history.get(type) ?? [];
    if (!hist.length && this.versions.get(type) !== undefined) hist.push({ version: this.versions.get(type) as string, changed: new Set() });
    hist.push({ version, changed });
    if (hist.length > 64) hist.splice(0, hist.length - 64);
    this.history.set(type, hist);
    this.versions.set(type, version);
    return true;
  }

  publish(changed: TypeUrl[]): void {
    if (changed.length) for (const l of this.listeners) l(changed);
  }

  onChange(l: (changed: TypeUrl[]) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
