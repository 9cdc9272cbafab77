import type { ServiceState, Skipped } from "../domain/translate.js";

export type ClusterState = "Connecting" | "Synced" | "Disconnected";

/** What a cluster source tells the publisher. */
export interface SourceListener {
  /** Services whose state may have changed ("ns/name"). */
  dirty(keys: Iterable<string>): void;
  status(state: ClusterState, error?: string): void;
  skipped(items: Skipped[]): void;
}

/** A cluster's services, from a Kubernetes API or a manifest directory. */
export interface ClusterSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once the first full read of the cluster is complete. */
  readonly synced: boolean;
  /** Every service key the source knows now. */
  keys(): string[];
  /** The state of one service, or undefined when it does not exist (any more). */
  state(key: string): ServiceState | undefined;
}
