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
 * The current resources per type. A resource is encoded once per version: an unchanged
 * input hash reuses the bytes already encoded, and the same Buffer is sent to every proxy.
 */
export class SnapshotCache {
  private readonly resources = new Map<TypeUrl, Map<string, CachedResource>>();
  private readonly versions = new Map<TypeUrl, string>();
  private readonly listeners = new Set<(changed: TypeUrl[]) => void>();
  encodes = 0;

  version(type: TypeUrl): string {
    return this.versions.get(type) ?? "";
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
      if (old && old.version === input.hash) next.set(name, old);
      else {
        this.encodes++;
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
