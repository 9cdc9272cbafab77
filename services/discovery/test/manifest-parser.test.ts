import { describe, expect, it } from "vitest";
import { ManifestParser } from "../src/adapters/manifest-parser.js";
import { DEFAULT_MANIFEST_LIMITS } from "../src/domain/manifest-docs.js";
import { k8s } from "./objects.js";

// Issue 19: a large manifest file blocked every service of the process while it was parsed.
// Parsing happens on a worker thread: the event loop turns meanwhile; a file that takes too
// long is refused and the thread replaced.
const big = (() => {
  let t = "";
  for (let i = 0; t.length < 3 * 1024 * 1024; i++) t += `${JSON.stringify(k8s.service(`s${i}`))}\n---\n`;
  return t;
})();
const limits = { ...DEFAULT_MANIFEST_LIMITS, maxObjects: 100_000 };

describe("manifest parser", () => {
  it("parses off the event loop: callbacks queued after the call run before the result", async () => {
    const parser = new ManifestParser();
    try {
      let turned = false;
      const parsing = parser.parse(big, "big.yaml", limits);
      setImmediate(() => {
        turned = true;
      });
      const r = await parsing;
      expect(turned).toBe(true);
      expect(r.ok && r.objects.length).toBeGreaterThan(10_000);
    } finally {
      await parser.close();
    }
  }, 60_000);

  it("refuses a file that takes longer than its limit, and parses the next one on a new thread", async () => {
    const parser = new ManifestParser({ timeoutMs: 50 });
    try {
      const r = await parser.parse(big, "big.yaml", limits);
      expect(r).toEqual({ ok: false, reason: "took longer than 50 ms to parse" });
      const small = await parser.parse(JSON.stringify(k8s.service("a")), "a.yaml", limits);
      expect(small.ok && small.objects.map((o) => o.metadata.name)).toEqual(["a"]);
    } finally {
      await parser.close();
    }
  }, 60_000);
});
