import { type CloudEvent, domainFilter, streamName } from "@isthmus/events";
import { type MeshFixture, meshFixture, waitFor as until } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, DurableConsumer, Publisher, StateReader } from "../src/index.js";
import { serviceState } from "./fixtures.js";

// Issue 19: after config-push's consumers were deleted it silently stopped following its
// streams while /readyz stayed 200. A consumer that disappears is recreated and reported,
// and `following` (what readiness reads) is false while it is gone.
let fx: MeshFixture;
let bus: Bus;
let mesh: string;

beforeAll(async () => {
  fx = await meshFixture("follow");
  ({ bus, mesh } = fx);
});
afterAll(() => fx.dispose());

const state = (name: string) => serviceState(mesh, name);

describe("following a stream after its consumer is deleted", () => {
  it("a durable consumer is recreated, reported, and delivers what came meanwhile", async () => {
    const pub = new Publisher(bus.js);
    const seen: string[] = [];
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (_o: object, m?: string) => warnings.push(m ?? "") };
    const c = await DurableConsumer.start(
      bus,
      { mesh, domain: "discovery", durable: "follower" },
      async (ev: CloudEvent) => {
        seen.push((ev.data as { name: string }).name);
      },
      log,
    );
    const a = state("a");
    await pub.publish(a.subject, a.event);
    await until(() => seen.includes("a"));
    expect(c.following).toBe(true);
    await bus.jsm.consumers.delete(streamName(mesh, "discovery"), "follower");
    const b = state("b");
    await pub.publish(b.subject, b.event);
    await until(() => seen.includes("b"), 20_000);
    expect(c.recreated).toBeGreaterThanOrEqual(1);
    expect(warnings.some((w) => /recreated/.test(w))).toBe(true);
    expect(c.following).toBe(true);
    await c.stop();
  });

  it("a state reader (ordered consumer) resumes after its consumer is deleted", async () => {
    const pub = new Publisher(bus.js);
    const reader = new StateReader(bus.js, { stream: streamName(mesh, "discovery"), filter: domainFilter(mesh, "discovery") });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const it of reader) if (it.kind === "state") seen.push((it.event.data as { name: string }).name);
    })();
    const x = state("x");
    await pub.publish(x.subject, x.event);
    await until(() => seen.includes("x"));
    expect(reader.following).toBe(true);
    for (const ci of await bus.jsm.consumers.list(streamName(mesh, "discovery")).next()) {
      if (ci.name !== "follower") await bus.jsm.consumers.delete(streamName(mesh, "discovery"), ci.name);
    }
    const y = state("y");
    await pub.publish(y.subject, y.event);
    await until(() => seen.includes("y"), 60_000);
    expect(reader.following).toBe(true);
    expect(reader.recreated).toBeGreaterThanOrEqual(1);
    await reader.close();
    await reading;
  }, 70_000);
});
