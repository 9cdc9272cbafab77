import { buildEvent, type CloudEvent, configResourceV1, streamName } from "@isthmus/events";
import { type MeshFixture, meshFixture, waitFor as until } from "@isthmus/testing";
import { DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, DLQ_HEADERS, DurableConsumer, deadLetterSubject, PermanentError, Publisher } from "../src/index.js";

let fx: MeshFixture;
let bus: Bus;
let mesh: string;

beforeAll(async () => {
  fx = await meshFixture("durable");
  ({ bus, mesh } = fx);
});
afterAll(() => fx.dispose());

function cfg(name: string) {
  return buildEvent(
    configResourceV1,
    mesh,
    { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", namespace: "ns", name, labels: {}, spec: {} },
    { source: "test" },
  );
}

async function readDlq(subject: string, count: number): Promise<JsMsg[]> {
  const c = await bus.js.consumers.get(streamName(mesh, "dlq"), { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
  const out: JsMsg[] = [];
  const it = await c.fetch({ max_messages: count, expires: 5_000 });
  for await (const m of it) out.push(m);
  return out;
}

describe("durable consumer", () => {
  it("dead-letters a malformed message with its reason and original headers, then goes on", async () => {
    const pub = new Publisher(bus.js);
    const seen: string[] = [];
    const durable = "malformed";
    const consumer = await DurableConsumer.start(
      bus,
      { mesh, domain: "config", durable, filter: `mesh.${mesh}.config.DestinationRule.>` },
      async (ev: CloudEvent) => {
        seen.push((ev.data as { name: string }).name);
      },
    );
    const a = cfg("a");
    await pub.publish(a.subject, a.event);
    const h = headers();
    h.set("X-Origin", "garbage-maker");
    await bus.js.publish(`mesh.${mesh}.config.DestinationRule.ns.bad`, new TextEncoder().encode("{not json"), { headers: h });
    const b = cfg("b");
    await pub.publish(b.subject, b.event);
    await until(() => seen.length === 2);
    await consumer.stop();
    expect(seen).toEqual(["a", "b"]);

    const [dead] = await readDlq(deadLetterSubject(mesh, "config", durable), 1);
    expect(dead).toBeDefined();
    expect(new TextDecoder().decode(dead?.data)).toBe("{not json");
    expect(dead?.headers?.get(DLQ_HEADERS.reason)).toMatch(/^malformed: not JSON/);
    expect(dead?.headers?.get(DLQ_HEADERS.subject)).toBe(`mesh.${mesh}.config.DestinationRule.ns.bad`);
    expect(dead?.headers?.get("X-Origin")).toBe("garbage-maker");
  });

  it("retries a failing handler with backoff, then dead-letters it; a permanent error goes at once", async () => {
    const pub = new Publisher(bus.js);
    const durable = "flaky";
    const attempts = new Map<string, number>();
    const applied: string[] = [];
    const consumer = await DurableConsumer.start(
      bus,
      { mesh, domain: "config", durable, filter: `mesh.${mesh}.config.VirtualService.>`, maxDeliver: 3, backoffMs: [20, 40] },
      async (ev) => {
        const name = (ev.data as { name: string }).name;
        attempts.set(name, (attempts.get(name) ?? 0) + 1);
        if (name === "always-fails") throw new Error("backend says no");
        if (name === "rejected") throw new PermanentError("spec is contradictory");
        if (name === "fails-once" && attempts.get(name) === 1) throw new Error("transient");
        applied.push(name);
      },
    );
    for (const n of ["fails-once", "always-fails", "rejected", "fine"]) {
      const e = buildEvent(
        configResourceV1,
        mesh,
        { apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace: "ns", name: n, labels: {}, spec: {} },
        { source: "t" },
      );
      await pub.publish(e.subject, e.event);
    }
    await until(() => applied.length === 2 && (attempts.get("always-fails") ?? 0) >= 3);
    const dead = await readDlq(deadLetterSubject(mesh, "config", durable), 2);
    await consumer.stop();
    expect(applied).toEqual(["fails-once", "fine"]);
    expect(attempts.get("always-fails")).toBe(3);
    expect(attempts.get("rejected")).toBe(1);
    const reasons = dead.map((m) => m.headers?.get(DLQ_HEADERS.reason)).sort();
    expect(reasons).toEqual(["failed 3 times; last error: backend says no", "rejected: spec is contradictory"]);
  });
});
