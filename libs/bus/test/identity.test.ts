import { domainFilter, encodeEvent, streamName } from "@isthmus/events";
import { type MeshFixture, meshFixture, waitFor as until } from "@isthmus/testing";
import { DeliverPolicy } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, DLQ_HEADERS, DurableConsumer, deadLetterSubject, Publisher, StateReader } from "../src/index.js";
import { serviceState } from "./fixtures.js";

// Issue 19: a service_state published on another entity's subject changed that entity. The
// readers refuse an event whose data names another subject: the durable consumer dead-letters
// it with the reason, the state reader yields it as invalid (and counts it).
let fx: MeshFixture;
let bus: Bus;
let mesh: string;

beforeAll(async () => {
  fx = await meshFixture("ident");
  ({ bus, mesh } = fx);
});
afterAll(() => fx.dispose());

describe("subject <-> payload identity on the bus", () => {
  it("a state on another entity's subject is refused by both readers; the real one is applied", async () => {
    const real = serviceState(mesh, "reviews");
    const forged = serviceState(mesh, "reviews");
    const elsewhere = `mesh.${mesh}.discovery.service.c1.default.ratings`;
    await new Publisher(bus.js).publish(real.subject, real.event);
    await bus.js.publish(elsewhere, encodeEvent(forged.event));

    const reader = new StateReader(bus.js, { stream: streamName(mesh, "discovery"), filter: domainFilter(mesh, "discovery") });
    const items: Array<{ kind: string; subject?: string; reason?: string }> = [];
    for await (const it of reader) {
      if (it.kind === "caught-up") break;
      items.push({ kind: it.kind, subject: it.subject, ...(it.kind === "invalid" ? { reason: it.reason } : {}) });
    }
    await reader.close();
    expect(items).toContainEqual({ kind: "state", subject: real.subject });
    expect(items).toContainEqual({
      kind: "invalid",
      subject: elsewhere,
      reason: `subject mismatch: subject ${elsewhere} does not match its data, which names ${real.subject}`,
    });
    expect(reader.rejected).toBe(1);

    const applied: string[] = [];
    const c = await DurableConsumer.start(bus, { mesh, domain: "discovery", durable: "ident" }, async (_ev, ctx) => {
      applied.push(ctx.subject);
    });
    // Both handled: the real one applied, the forged one in the dead-letter stream.
    await until(async () => applied.length === 1 && (await bus.jsm.streams.info(streamName(mesh, "dlq"))).state.messages === 1, 20_000);
    await c.stop();
    expect(applied).toEqual([real.subject]);
    const dlq = await bus.js.consumers.get(streamName(mesh, "dlq"), {
      filter_subjects: deadLetterSubject(mesh, "discovery", "ident"),
      deliver_policy: DeliverPolicy.All,
    });
    const dead = await dlq.next({ expires: 5_000 });
    expect(dead?.headers?.get(DLQ_HEADERS.subject)).toBe(elsewhere);
    expect(dead?.headers?.get(DLQ_HEADERS.reason)).toMatch(/subject mismatch/);
  });
});
