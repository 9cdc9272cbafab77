import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildEvent, decodeEvent, encodeEvent, eventDefs, eventSubject, TOMBSTONE_TYPE } from "../src/index.js";
import { mutate, sampleOf } from "./samples.js";

// Fuzz of every event type's decoder (issue 19): whatever the bytes and the subject, decoding
// never throws, refuses with a reason, and what it accepts satisfies the type's schema and
// its subject. Fixed seed and bounded runs: the same cases every CI run.
const mesh = "mesh-1";
const RUNS = { seed: 1919, numRuns: 300 };

const anyJson = fc.jsonValue({ maxDepth: 3 });

describe("fuzz: event decoders", () => {
  it("random bytes never throw and are refused with a reason", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.option(fc.string({ maxLength: 60 })), (bytes, subject) => {
        const r = decodeEvent(bytes, subject ?? undefined);
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it.each(eventDefs().map((d) => [d.type, d] as const))("%s: mutated envelopes and data never throw; what is accepted is valid on its subject", (_t, def) => {
    const good = buildEvent(def, mesh, sampleOf(def) as never, { source: "fuzz" });
    const envelope = JSON.parse(new TextDecoder().decode(encodeEvent(good.event)));
    fc.assert(
      fc.property(
        fc.array(fc.nat(20), { minLength: 0, maxLength: 5 }),
        fc.oneof(anyJson, fc.constantFrom(null, "", 0, -1, 1e308, [], {}, "x".repeat(10_000), TOMBSTONE_TYPE)),
        fc.boolean(),
        fc.boolean(),
        (path, replacement, drop, onOwnSubject) => {
          const bytes = new TextEncoder().encode(JSON.stringify(mutate(envelope, path, replacement, drop)));
          const subject = onOwnSubject ? good.subject : `mesh.${mesh}.${def.domain}.x`;
          const r = decodeEvent(bytes, subject);
          if (!r.ok) {
            expect(r.reason.length).toBeGreaterThan(0);
            return;
          }
          // Accepted: the data is the type's, and the subject is the one it names.
          if (r.event.type !== TOMBSTONE_TYPE && r.def) {
            expect(r.def.schema.safeParse(r.event.data).success).toBe(true);
            expect(eventSubject(r.def, mesh, r.def.keyOf(r.event.data) as never)).toBe(subject);
          }
        },
      ),
      RUNS,
    );
    // And the good one still decodes.
    expect(decodeEvent(encodeEvent(good.event), good.subject).ok).toBe(true);
  });
});
