import { describe, expect, it } from "vitest";
import { type Pushable, PushQueue } from "../src/index.js";

function proxies(n: number, writes = true) {
  const flushed: number[] = [];
  const list: Pushable[] = Array.from({ length: n }, (_, i) => ({
    pending: new Set(),
    flush: () => {
      flushed.push(i);
      return writes;
    },
  }));
  return { list, flushed };
}

describe("push throttle", () => {
  it("keeps at most `limit` pushes unacknowledged and hands each freed slot to the next proxy in order", () => {
    const q = new PushQueue(2);
    const { list, flushed } = proxies(5);
    for (const p of list) q.add(p);
    q.drain();
    expect(flushed).toEqual([0, 1]);
    expect([q.inflightCount, q.waitingCount]).toEqual([2, 3]);
    q.done(list[1] as Pushable); // an ACK
    expect(flushed).toEqual([0, 1, 2]);
    q.forget(list[0] as Pushable); // a proxy went away
    expect(flushed).toEqual([0, 1, 2, 3]);
    q.done(list[0] as Pushable); // not in flight any more: no slot to free
    expect(flushed).toEqual([0, 1, 2, 3]);
    q.stop();
  });

  it("a proxy with nothing to send takes no slot", () => {
    const q = new PushQueue(1);
    const { list, flushed } = proxies(3, false);
    for (const p of list) q.add(p);
    q.drain();
    expect(flushed).toEqual([0, 1, 2]);
    expect(q.inflightCount).toBe(0);
    q.stop();
  });

  it("a proxy that never answers gives its slot back after the ACK timeout", async () => {
    const q = new PushQueue(1, 50);
    const { list, flushed } = proxies(2);
    for (const p of list) q.add(p);
    q.drain();
    expect(flushed).toEqual([0]);
    await new Promise((r) => setTimeout(r, 200));
    expect(flushed).toEqual([0, 1]);
    q.stop();
  });

  it("a proxy whose push timed out is stalled: not flushed again, and holding no slot, until it answers", async () => {
    const q = new PushQueue(1, 50);
    const { list, flushed } = proxies(2);
    const [silent, other] = list as [Pushable, Pushable];
    silent.pending.add("t" as never);
    q.add(silent);
    q.drain();
    await new Promise((r) => setTimeout(r, 200));
    expect(q.stalledCount).toBe(1);
    // More changes: the stalled proxy keeps its pending types but is not flushed; the other one is.
    q.add(silent);
    q.add(other);
    q.drain();
    expect(flushed).toEqual([0, 1]);
    q.done(other);
    // It answers: what it missed goes out.
    q.done(silent);
    expect(flushed).toEqual([0, 1, 0]);
    expect(q.stalledCount).toBe(0);
    q.stop();
  });
});
