import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  asyncApiJson,
  buildEvent,
  buildTombstone,
  contentId,
  decodeEvent,
  encodeEvent,
  eventDefs,
  eventFilter,
  isTombstone,
  serviceStateV1,
} from "../src/index.js";

const enc = new TextEncoder();
const svc = {
  cluster: "cluster-1",
  namespace: "default",
  name: "helloworld",
  hostname: "helloworld.default.svc.cluster.local",
  ports: [{ name: "grpc", port: 5000, protocol: "GRPC" as const }],
  endpoints: [],
  stale: false,
};

describe("event registry", () => {
  it("builds a CloudEvent addressed to its entity and decodes it back", () => {
    const { subject, event } = buildEvent(serviceStateV1, "mesh-1", svc, { source: "discovery/test" });
    expect(subject).toBe("mesh.mesh-1.discovery.service.cluster-1.default.helloworld");
    expect(event).toMatchObject({ specversion: "1.0", type: "io.isthmus.discovery.service_state.v1", datacontenttype: "application/json" });
    const back = decodeEvent(encodeEvent(event));
    expect(back.ok && back.event.data).toEqual(svc);
    expect(back.ok && back.def).toBe(serviceStateV1);
  });

  it("refuses to build invalid data", () => {
    expect(() => buildEvent(serviceStateV1, "mesh-1", { ...svc, ports: [{ name: "x", port: 0, protocol: "GRPC" }] }, { source: "t" })).toThrow(
      /invalid io.isthmus.discovery.service_state.v1/,
    );
  });

  it("says why a message does not decode", () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [enc.encode("{nope"), /not JSON/],
      [new Uint8Array([0xff, 0xfe]), /not JSON/],
      [enc.encode(JSON.stringify({ hello: 1 })), /not a CloudEvents 1.0 envelope/],
      [
        enc.encode(
          JSON.stringify({
            specversion: "1.0",
            id: "1",
            source: "s",
            type: "io.isthmus.nope.v1",
            time: new Date().toISOString(),
            datacontenttype: "application/json",
            data: {},
          }),
        ),
        /unknown event type io.isthmus.nope.v1/,
      ],
      [
        enc.encode(
          JSON.stringify({
            specversion: "1.0",
            id: "1",
            source: "s",
            type: serviceStateV1.type,
            time: new Date().toISOString(),
            datacontenttype: "application/json",
            data: { cluster: 3 },
          }),
        ),
        /data does not match io.isthmus.discovery.service_state.v1/,
      ],
    ];
    for (const [bytes, why] of cases) {
      const r = decodeEvent(bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(why);
    }
  });

  it("tombstones name the type they delete and land on the entity subject", () => {
    const t = buildTombstone(serviceStateV1, "mesh-1", { cluster: "c", namespace: "n", name: "s" }, { source: "t", reason: "deleted" });
    expect(t.subject).toBe("mesh.mesh-1.discovery.service.c.n.s");
    const back = decodeEvent(encodeEvent(t.event));
    expect(back.ok && isTombstone(back.event) && back.event.data.of).toBe(serviceStateV1.type);
    expect(back.ok && back.def).toBe(serviceStateV1);
  });

  it("content ids are equal for equal states whatever the key order", () => {
    const a = contentId(serviceStateV1.type, "s", { x: 1, y: [1, { b: 2, a: 1 }] });
    const b = contentId(serviceStateV1.type, "s", { y: [1, { a: 1, b: 2 }], x: 1 });
    expect(a).toBe(b);
    expect(contentId(serviceStateV1.type, "s", { x: 2 })).not.toBe(a);
  });

  it("filters match every entity of a type", () => {
    expect(eventFilter(serviceStateV1, "m")).toBe("mesh.m.discovery.service.*.*.*");
  });

  it("every event type is versioned and documented in the checked-in AsyncAPI document", () => {
    for (const def of eventDefs()) expect(def.type).toMatch(/\.v\d+$/);
    const onDisk = readFileSync(new URL("../asyncapi.json", import.meta.url), "utf8");
    // Stale? Run `npm run gen` and commit libs/events/asyncapi.json.
    expect(onDisk).toBe(asyncApiJson());
  });
});
