import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mutate } from "../../../libs/events/test/samples.js";
import { parseManifest } from "../src/domain/manifest-docs.js";
import { translateService, translateServiceEntry } from "../src/index.js";
import { DiscoveryHarness } from "./harness.js";
import { k8s } from "./objects.js";

// Fuzz of manifests (issue 19): random text, YAML-ish text and valid manifests with one
// field dropped, retyped or re-valued never throw out of the reader or the translation, and
// a running discovery fed all of them still publishes a good file afterwards. Fixed seed.
const RUNS = { seed: 1919, numRuns: 300 };
const cluster = { id: "c1", mode: "managed" as const, network: "", region: "", zone: "" };
const none = { pod: () => undefined, node: () => undefined };

const base = [
  k8s.service("s"),
  k8s.slice("s", "s", "default", [{ ip: "10.0.0.1", pod: "p", node: "n" }]),
  k8s.pod("p", "default", { app: "s" }, "sa", "n"),
  k8s.node("n", "r", "z"),
  {
    apiVersion: "networking.istio.io/v1",
    kind: "ServiceEntry",
    metadata: { name: "se", namespace: "default" },
    spec: { hosts: ["x.example"], ports: [{ number: 80, name: "http" }], endpoints: [{ address: "10.0.0.2" }] },
  },
];
const mutated = fc
  .record({
    doc: fc.nat(base.length - 1),
    path: fc.array(fc.nat(12), { maxLength: 5 }),
    replacement: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, "", -1, Number.MAX_VALUE, [null], {})),
    drop: fc.boolean(),
  })
  .map(({ doc, path, replacement, drop }) => base.map((d, i) => (i === doc ? mutate(d, path, replacement, drop) : d)));
const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc
    .array(fc.constantFrom("---", "- ", ": ", "kind: Service", "metadata:", "  name: x", "items:", "&a [*a, *a]", "*a", "{", "]", "# c", "\t", "'", '"'), {
      maxLength: 30,
    })
    .map((xs) => xs.join("\n")),
  mutated.map((docs) => docs.map((d) => JSON.stringify(d)).join("\n---\n")),
);

describe("fuzz: manifests", () => {
  it("the reader never throws: a file is parsed or refused with a reason", () => {
    fc.assert(
      fc.property(text, (t) => {
        const r = parseManifest(t, "f.yaml");
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
        else for (const s of r.skipped) expect(s.reason.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it("translation never throws on objects the reader accepts", () => {
    fc.assert(
      fc.property(mutated, (docs) => {
        const r = parseManifest(docs.map((d) => JSON.stringify(d)).join("\n---\n"), "f.yaml");
        if (!r.ok) return;
        const of = (k: string) => r.objects.filter((o) => o.kind === k) as never[];
        for (const svc of of("Service")) translateService(cluster, svc, of("EndpointSlice"), none);
        for (const se of of("ServiceEntry")) translateServiceEntry(cluster, se, of("WorkloadEntry"));
      }),
      RUNS,
    );
  });

  describe("a running discovery", () => {
    let h: DiscoveryHarness;
    let dir: string;
    beforeAll(() => {
      h = new DiscoveryHarness();
      dir = mkdtempSync(join(tmpdir(), "manifest-fuzz-"));
    });
    afterAll(async () => {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("fed 100 fuzzed files still publishes a good one and stays ready", async () => {
      await h.manifestCluster("local", dir);
      await h.start();
      for (const [i, t] of fc.sample(text, { seed: 1919, numRuns: 100 }).entries()) writeFileSync(join(dir, `fuzz-${i}.yaml`), t);
      writeFileSync(
        join(dir, "zz-good.yaml"),
        [k8s.service("good"), k8s.slice("good", "good", "default", [{ ip: "10.9.9.9" }])].map((d) => JSON.stringify(d)).join("\n---\n"),
      );
      await h.until(async () => (await h.state("local/default/good"))?.endpoints[0]?.address === "10.9.9.9", 15_000, "the good file published");
      expect(await h.d.ready()).toBe(true);
    }, 30_000);
  });
});
