import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as grpc from "@grpc/grpc-js";
import { waitFor } from "@isthmus/testing";
import { TYPE } from "@isthmus/xds";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { rawAds } from "./raw-ads.js";
import { type Testbed, testbed } from "./testbed.js";

// Issue 19's fuzz pass on xDS: arbitrary SotW and delta request sequences, from arbitrary
// nodes, against a running config-push (fixed seed, bounded runs). Afterwards a real gRPC
// xDS client is still served, every fuzzing stream is gone from the registry, and the heap
// is back near where it started.
const GOOD = "sidecar~127.0.0.1~fuzz-good.default~default.svc.cluster.local";
const HOST = "fuzzed.default.svc.cluster.local";
const SEED = 19;
const RUNS = 60;
let tb: Testbed;
let good: InstanceType<typeof GreeterClient>;
const servers: Array<{ stop(): void }> = [];

beforeAll(async () => {
  tb = await testbed("xdsfuzz", GOOD, { config: { ackTimeoutMs: 300 } });
  const v1 = await helloworldServer("v1", "f-v1");
  servers.push(v1);
  await tb.publishService("fuzzed", [{ port: v1.port }]);
  good = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
  await waitFor(async () => (await sayHello(good).catch(() => "")).includes("v1"), 20_000, "the good client is served");
});
afterAll(async () => {
  good?.close();
  for (const s of servers) s.stop();
  await tb.dispose();
});

const TYPES = [...Object.values(TYPE), "type.googleapis.com/envoy.config.nothing.v3.Nothing", ""];
const name = fc.oneof(
  fc.constantFrom(`outbound|5000||${HOST}`, `${HOST}:5000`, "default", "ROOTCA", "kubernetes://other/cert", "*", ""),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.nat({ max: 3_000 }).map((n) => "x".repeat(n)),
);
const nodeId = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom("sidecar~10.0.0.1~a.default~default.svc.cluster.local", "router~~~", "~~~~", "", "sidecar~1~.~."),
  fc.string({ maxLength: 80 }),
  fc.nat({ max: 2_000 }).map((n) => ".".repeat(n)),
);
const metadata = fc.option(
  fc.dictionary(fc.constantFrom("GENERATOR", "NETWORK", "MESH_ID", "ISTIO_VERSION", "x"), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
  {
    nil: undefined,
  },
);
/** What a request may echo: nothing, the latest nonce received, or a made-up one. */
const nonce = fc.constantFrom<"none" | "latest" | "bogus">("none", "latest", "bogus");
const errorDetail = fc.option(fc.record({ code: fc.integer({ min: 0, max: 16 }), message: fc.string({ maxLength: 200 }) }), { nil: undefined });
const sotwStep = fc.record({
  type: fc.constantFrom(...TYPES),
  names: fc.array(name, { maxLength: 6 }),
  nonce,
  errorDetail,
  version: fc.string({ maxLength: 10 }),
});
const deltaStep = fc.record({
  type: fc.constantFrom(...TYPES),
  subscribe: fc.array(name, { maxLength: 6 }),
  unsubscribe: fc.array(name, { maxLength: 3 }),
  initial: fc.dictionary(name, fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  nonce,
  errorDetail,
});
const session = fc.oneof(
  fc.record({ mode: fc.constant("sotw" as const), node: nodeId, metadata, steps: fc.array(sotwStep, { minLength: 1, maxLength: 6 }) }),
  fc.record({ mode: fc.constant("delta" as const), node: nodeId, metadata, steps: fc.array(deltaStep, { minLength: 1, maxLength: 6 }) }),
);

const settle = () => new Promise((r) => setTimeout(r, 15));

/** A full collection, so heap figures compare live memory, not garbage not collected yet. */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

describe("xDS fuzz (issue 19)", () => {
  it(`serves a good client after ${RUNS} arbitrary SotW and delta sessions (seed ${SEED}), with the registry and live heap back to baseline`, async () => {
    const baseline = { streams: [...tb.cp.ads.streams()].length, subscriptions: tb.cp.ads.subscriptionCount };
    const heap0 = liveHeap();
    const refused0 = tb.cp.ads.refusedStreams;
    await fc.assert(
      fc.asyncProperty(session, async (s) => {
        const raw = rawAds(`127.0.0.1:${tb.cp.port}`, s.mode);
        const node =
          s.node === undefined
            ? undefined
            : {
                id: s.node,
                ...(s.metadata ? { metadata: { fields: Object.fromEntries(Object.entries(s.metadata).map(([k, v]) => [k, { string_value: v }])) } } : {}),
              };
        let first = true;
        for (const step of s.steps) {
          if (raw.ended) break;
          const latest = raw.responses.at(-1)?.nonce ?? "";
          const echo = step.nonce === "latest" ? latest : step.nonce === "bogus" ? "nonce-that-was-never-sent" : "";
          const base = {
            ...(first && node ? { node } : {}),
            type_url: step.type,
            response_nonce: echo,
            ...(step.errorDetail ? { error_detail: step.errorDetail } : {}),
          };
          if ("names" in step) raw.call.write({ ...base, version_info: step.version, resource_names: step.names });
          else
            raw.call.write({
              ...base,
              resource_names_subscribe: step.subscribe,
              resource_names_unsubscribe: step.unsubscribe,
              initial_resource_versions: step.initial,
            });
          first = false;
          await settle();
        }
        raw.close();
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Still serving, and what the fuzzing streams held is released.
    await waitFor(() => [...tb.cp.ads.streams()].length === baseline.streams, 10_000, "fuzzing streams gone");
    expect(tb.cp.ads.subscriptionCount).toBe(baseline.subscriptions);
    expect(await sayHello(good)).toContain("v1");
    const v2 = await helloworldServer("v2", "f-v2");
    servers.push(v2);
    await tb.publishService("fuzzed", [{ port: v2.port }]);
    await waitFor(async () => (await sayHello(good).catch(() => "")).includes("v2"), 20_000, "a change still reaches the good client");
    const refused = tb.cp.ads.refusedStreams - refused0;
    expect(refused).toBeGreaterThan(0); // some nodes were refused at admission (with a reason), not all
    expect(refused).toBeLessThan(RUNS);
    expect(liveHeap() - heap0).toBeLessThan(32 * 1024 * 1024);
  });
});
