import { buildEvent, buildTombstone, configResourceV1, eventFilter, streamName } from "@isthmus/events";
import { type MeshFixture, meshFixture } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, Publisher, type StateItem, StateReader } from "../src/index.js";

let fx: MeshFixture;
let bus: Bus;
let mesh: string;

beforeAll(async () => {
  fx = await meshFixture("state");
  ({ bus, mesh } = fx);
});
afterAll(() => fx.dispose());

function vs(name: string, version: number) {
  return buildEvent(
    configResourceV1,
    mesh,
    { apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace: "default", name, labels: {}, spec: { version } },
    { source: "test" },
  );
}

describe("state stream reader", () => {
  it("bootstraps the latest state of 10,000 subjects, signals caught-up, then follows live in order", async () => {
    const pub = new Publisher(bus.js);
    const N = 10_000;
    // Three versions of every entity, interleaved, plus 100 entities deleted.
    const items = [];
    for (let v = 1; v <= 3; v++) for (let i = 0; i < N; i++) items.push(vs(`vs-${i}`, v));
    await pub.publishWindowed(items, 512);
    for (let i = 0; i < 100; i++) {
      const t = buildTombstone(configResourceV1, mesh, { kind: "VirtualService", namespace: "default", name: `vs-${i}` }, { source: "test" });
      await pub.publish(t.subject, t.event);
    }

    const reader = new StateReader(bus.js, { stream: streamName(mesh, "config"), filter: eventFilter(configResourceV1, mesh) });
    const state = new Map<string, number>();
    const deleted = new Set<string>();
    const live: number[] = [];
    let caughtUp = false;
    let itemsBeforeCaughtUp = 0;
    for await (const item of reader as AsyncIterable<StateItem>) {
      if (item.kind === "caught-up") {
        caughtUp = true;
        // Now publish live updates of one entity; they must arrive in order.
        for (let v = 10; v < 20; v++) await pub.publish(vs("vs-5000", v).subject, vs("vs-5000", v).event);
        continue;
      }
      if (!caughtUp) itemsBeforeCaughtUp++;
      if (item.kind === "state") {
        const data = item.event.data as { name: string; spec: { version: number } };
        if (caughtUp) live.push(data.spec.version);
        else state.set(data.name, data.spec.version);
      } else if (item.kind === "deleted") {
        deleted.add(item.subject);
      } else throw new Error(`unexpected ${item.kind}`);
      if (live.length === 10) break;
    }
    await reader.close();

    expect(itemsBeforeCaughtUp).toBe(N); // exactly one message per subject
    expect(deleted.size).toBe(100);
    expect(state.size).toBe(N - 100);
    for (const [, v] of state) expect(v).toBe(3);
    expect(live).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it("signals caught-up at once on an empty filter", async () => {
    const reader = new StateReader(bus.js, { stream: streamName(mesh, "pvl"), filter: `mesh.${mesh}.pvl.>` });
    const it = reader[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toEqual({ kind: "caught-up" });
    await reader.close();
    await it.return?.();
  });
});
