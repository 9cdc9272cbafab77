import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildEvent, buildTombstone, decodeEvent, encodeEvent, eventDefs, subjectFor } from "../src/index.js";
import { sampleOf } from "./samples.js";

// Issue 19: config-push trusted an event's data over its subject, so a service_state with
// another entity's keys, published on any subject, changed that entity. An event decodes on
// a subject only when the subject is the one its data names.
const mesh = "mesh-1";

describe("subject <-> payload identity", () => {
  it.each(eventDefs().map((d) => [d.type, d] as const))("%s: accepted on its own subject only", (_t, def) => {
    const data = sampleOf(def);
    const { subject, event } = buildEvent(def, mesh, data as never, { source: "test" });
    const bytes = encodeEvent(event);
    expect(decodeEvent(bytes, subject).ok).toBe(true);
    const keys = Object.keys(def.keyOf(data as never));
    // Any other subject of the same shape (one key's token changed), another domain, another mesh's shape.
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.string({ minLength: 1, maxLength: 20 }), (key, value) => {
        const k = { ...(def.keyOf(data as never) as Record<string, string>) };
        fc.pre(k[key] !== value);
        k[key] = value;
        const other = subjectFor(mesh, def.domain, ...def.path.map((t) => (t.startsWith(":") ? (k[t.slice(1)] ?? "") : t)));
        const r = decodeEvent(bytes, other);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toMatch(/^subject mismatch: /);
      }),
      { seed: 19, numRuns: 100 },
    );
    const wrongDomain = def.domain === "config" ? "discovery" : "config";
    const r = decodeEvent(bytes, subject.replace(`.${def.domain}.`, `.${wrongDomain}.`));
    expect(r.ok).toBe(false);
    expect(decodeEvent(bytes, "not.a.mesh.subject").ok).toBe(false);
  });

  it("a tombstone lands only on a subject of its type's shape", () => {
    for (const def of eventDefs()) {
      const keys = def.keyOf(sampleOf(def) as never) as Record<string, string>;
      const t = buildTombstone(def, mesh, keys as never, { source: "test" });
      expect(decodeEvent(encodeEvent(t.event), t.subject).ok, def.type).toBe(true);
      const r = decodeEvent(encodeEvent(t.event), `${t.subject}.extra`);
      expect(r.ok, def.type).toBe(false);
    }
  });

  it("decodes without a subject as before (tools reading raw bytes)", () => {
    for (const def of eventDefs()) expect(decodeEvent(encodeEvent(buildEvent(def, mesh, sampleOf(def) as never, { source: "t" }).event)).ok).toBe(true);
  });
});
