import type { TypeUrl } from "@isthmus/xds";

/** A proxy connection that can be pushed what its view changed. */
export interface Pushable {
  pending: Set<TypeUrl>;
  /** Send the pending types; whether anything was written (an ACK is then awaited). */
  flush(): boolean;
}

/**
 * Throttles pushes: at most `limit` proxies have a push written and not yet ACKed (or
 * NACKed); the others wait their turn in arrival order, so a change to 10,000 proxies does
 * not queue 10,000 responses in memory at once. A proxy that does not answer within
 * `ackTimeoutMs` gives its slot back and is stalled: its changes are kept (in its pending
 * types) but it is not pushed again, and takes no slot, until it answers — so proxies that
 * never ACK cost the others one timeout, not one per change.
 */
export class PushQueue {
  private readonly waiting = new Set<Pushable>();
  private readonly inflight = new Map<Pushable, number>();
  private readonly stalled = new Set<Pushable>();
  private sweeper: NodeJS.Timeout | undefined;
  pushes = 0;

  constructor(
    readonly limit: number,
    private readonly ackTimeoutMs = 5_000,
    /** Told after each flush whether it wrote anything. */
    private readonly flushed: (c: Pushable, wrote: boolean) => void = () => {},
  ) {}

  get stalledCount(): number {
    return this.stalled.size;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  add(c: Pushable): void {
    if (!this.stalled.has(c)) this.waiting.add(c);
  }

  drain(): void {
    for (const c of this.waiting) {
      if (this.inflight.size >= this.limit) break;
      this.waiting.delete(c);
      const wrote = c.flush();
      if (wrote) {
        this.pushes++;
        this.inflight.set(c, Date.now());
      }
      this.flushed(c, wrote);
    }
    if (this.inflight.size && !this.sweeper) {
      this.sweeper = setInterval(() => this.expire(), Math.min(1_000, this.ackTimeoutMs)).unref();
    }
  }

  /** The proxy answered (ACK or NACK): its slot goes to the next one waiting; a stalled proxy gets what it missed. */
  done(c: Pushable): void {
    if (this.stalled.delete(c) && c.pending.size) this.waiting.add(c);
    this.inflight.delete(c);
    if (this.waiting.size) this.drain();
  }

  /** The proxy went away. */
  forget(c: Pushable): void {
    this.waiting.delete(c);
    this.stalled.delete(c);
    this.done(c);
  }

  private expire(): void {
    const limit = Date.now() - this.ackTimeoutMs;
    for (const [c, at] of this.inflight)
      if (at < limit) {
        this.inflight.delete(c);
        this.stalled.add(c);
        this.waiting.delete(c);
      }
    if (!this.inflight.size) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    this.drain();
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.waiting.clear();
    this.inflight.clear();
    this.stalled.clear();
  }
}
