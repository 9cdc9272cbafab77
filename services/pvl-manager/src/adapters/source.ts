import type { PvlConfigObject, PvlStatus } from "../domain/spec.js";

/**
 * Where ASMPvlConfig objects live: the mesh's config cluster, or the CONFIG stream when there
 * is none. The reconciler sees one shape (a Kubernetes-like object with a finalizer and a
 * deletionTimestamp) whichever it is, so there is one reconcile path.
 */
export interface PvlConfigSource {
  /** The object as it is now; a deleted object still being cleaned up has a deletionTimestamp. */
  get(name: string): Promise<PvlConfigObject | undefined>;
  /** Replace metadata (finalizers); a stale write is a ConflictError. */
  replace(obj: PvlConfigObject): Promise<PvlConfigObject>;
  writeStatus(obj: PvlConfigObject, status: PvlStatus): Promise<PvlConfigObject>;
  /** Calls `changed` with every object's name now and whenever one changes, until `stop`. */
  watch(changed: (name: string) => void, down: (err: unknown) => void): Promise<void>;
  stop(): Promise<void>;
}
