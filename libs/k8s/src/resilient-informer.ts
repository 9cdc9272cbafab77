import { type KubeConfig, type KubernetesObject, type ListPromise, makeInformer } from "@kubernetes/client-node";

export interface InformerHandlers<T extends KubernetesObject> {
  upsert(obj: T): void;
  remove(obj: T): void;
  /** The informer is listing/watching normally again (after the first list, or a recovery). */
  up?(): void;
  /** The watch or list failed; the cache is kept and a restart is scheduled. */
  down?(err: unknown): void;
}

/**
 * An informer that keeps going. client-node's informer re-lists by itself on 410 Gone
 * (reporting deletions it missed) but stops on any other error; this one restarts it
 * with jittered exponential backoff, keeping its cache in the meantime, so an API
 * server outage is ridden out and nothing is forgotten because a connection failed.
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly inf;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private healthy = false;

  constructor(
    kc: KubeConfig,
    readonly path: string,
    list: ListPromise<T>,
    private readonly h: InformerHandlers<T>,
    private readonly maxBackoffMs = 5_000,
  ) {
    this.inf = makeInformer<T>(kc, path, list);
    this.inf.on("add", (o) => h.upsert(o));
    this.inf.on("update", (o) => h.upsert(o));
    this.inf.on("delete", (o) => h.remove(o));
    this.inf.on("error", (err) => this.failed(err));
  }

  get isUp(): boolean {
    return this.healthy;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.inf.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.inf.list(namespace);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  private async attempt(): Promise<void> {
    const before = this.failures;
    await this.inf.start();
    // start() resolves once the watch is open, or after reporting an error.
    if (this.failures === before && !this.stopped) {
      this.failures = 0;
      if (!this.healthy) {
        this.healthy = true;
        this.h.up?.();
      }
    }
  }

  private failed(err: unknown): void {
    this.failures++;
    if (this.healthy || this.failures === 1) this.h.down?.(err);
    this.healthy = false;
    if (this.stopped || this.timer) return;
    const ceiling = Math.min(this.maxBackoffMs, 100 * 2 ** Math.min(this.failures, 10));
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (!this.stopped) void this.attempt();
      },
      ceiling / 2 + Math.random() * (ceiling / 2),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inf.stop();
  }
}
