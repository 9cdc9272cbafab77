import type { ResourceType } from "./resources.js";
import { apiVersionOf, resourceKey } from "./resources.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON
type Loose = any;

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: Loose };
  [k: string]: Loose;
};

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  rv: number;
  type: WatchEventType;
  resource: string;
  object: KubeObject;
}

export class ConflictError extends Error {}
export class NotFoundError extends Error {}
export class AlreadyExistsError extends Error {}

/**
 * Objects of every resource type with one resourceVersion counter, and the recent
 * event history watches resume from; history older than the window is gone (410).
 */
export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<string, KubeObject>();
  private history: StoredEvent[] = [];
  /** The lowest resourceVersion a watch may resume from; older ones get 410 Gone. */
  private compactedAt = 0;
  private readonly listeners = new Set<(e: StoredEvent) => void>();

  constructor(public historyLimit = 10_000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestResumable(): number {
    return this.compactedAt;
  }

  private key(r: ResourceType, ns: string | undefined, name: string): string {
    return `${resourceKey(r)}/${r.namespaced ? (ns ?? "default") : ""}/${name}`;
  }

  list(r: ResourceType, ns?: string): KubeObject[] {
    const prefix = r.namespaced && ns ? `${resourceKey(r)}/${ns}/` : `${resourceKey(r)}/`;
    const out: KubeObject[] = [];
    for (const [k, o] of this.objects) if (k.startsWith(prefix)) out.push(o);
    return out;
  }

  get(r: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(this.key(r, ns, name));
  }

  private record(type: WatchEventType, r: ResourceType, obj: KubeObject): void {
    const e: StoredEvent = { rv: Number(obj.metadata.resourceVersion), type, resource: resourceKey(r), object: obj };
    this.history.push(e);
    if (this.history.length > this.historyLimit) {
      const drop = this.history.length - this.historyLimit;
      this.compactedAt = (this.history[drop - 1] as StoredEvent).rv;
      this.history = this.history.slice(drop);
    }
    for (const l of this.listeners) l(e);
  }

  /** Create or replace. `expectRv` enforces optimistic concurrency like the real API. */
  put(r: ResourceType, obj: KubeObject, o: { create?: boolean; expectRv?: string } = {}): KubeObject {
    const ns = r.namespaced ? (obj.metadata.namespace ?? "default") : undefined;
    const k = this.key(r, ns, obj.metadata.name);
    const prev = this.objects.get(k);
    if (o.create && prev) throw new AlreadyExistsError(`${r.plural} "${obj.metadata.name}" already exists`);
    if (o.expectRv && prev && prev.metadata.resourceVersion !== o.expectRv) {
      throw new ConflictError(
        `Operation cannot be fulfilled on ${r.plural} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    if (o.expectRv && !prev) throw new NotFoundError(`${r.plural} "${obj.metadata.name}" not found`);
    const stored: KubeObject = structuredClone(obj);
    stored.apiVersion = apiVersionOf(r);
    stored.kind = r.kind;
    stored.metadata.resourceVersion = String(++this.rv);
    if (ns) stored.metadata.namespace = ns;
    stored.metadata.uid = prev?.metadata.uid ?? stored.metadata.uid ?? `uid-${this.rv}`;
    stored.metadata.creationTimestamp = prev?.metadata.creationTimestamp ?? new Date().toISOString();
    stored.metadata.generation = (prev?.metadata.generation ?? 0) + (prev && JSON.stringify(prev.spec) === JSON.stringify(stored.spec) ? 0 : 1);
    // A terminating object whose last finalizer is gone is removed for good.
    if (stored.metadata.deletionTimestamp && !(stored.metadata.finalizers ?? []).length) {
      this.objects.delete(k);
      this.record("DELETED", r, stored);
      return stored;
    }
    this.objects.set(k, stored);
    this.record(prev ? "MODIFIED" : "ADDED", r, stored);
    return stored;
  }

  /** Delete; with finalizers the object only becomes terminating (deletionTimestamp). */
  delete(r: ResourceType, ns: string | undefined, name: string): KubeObject {
    const k = this.key(r, ns, name);
    const prev = this.objects.get(k);
    if (!prev) throw new NotFoundError(`${r.plural} "${name}" not found`);
    if ((prev.metadata.finalizers ?? []).length) {
      if (prev.metadata.deletionTimestamp) return prev;
      const next = structuredClone(prev);
      next.metadata.deletionTimestamp = new Date().toISOString();
      next.metadata.resourceVersion = String(++this.rv);
      this.objects.set(k, next);
      this.record("MODIFIED", r, next);
      return next;
    }
    this.objects.delete(k);
    const gone = structuredClone(prev);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record("DELETED", r, gone);
    return gone;
  }

  /** Events after `rv` for one resource type (and namespace); undefined when that history is gone. */
  since(r: ResourceType, ns: string | undefined, rv: number): StoredEvent[] | undefined {
    if (rv < this.compactedAt) return undefined;
    const key = resourceKey(r);
    return this.history.filter((e) => e.rv > rv && e.resource === key && (!ns || e.object.metadata.namespace === ns));
  }

  subscribe(l: (e: StoredEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Forget all history: every watch that resumes from before now gets 410 Gone. */
  compact(): void {
    this.compactedAt = this.rv;
    this.history = [];
  }
}
