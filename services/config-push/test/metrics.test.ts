import * as grpc from "@grpc/grpc-js";
import { startTelemetry, type Telemetry } from "@isthmus/telemetry";
import { waitFor } from "@isthmus/testing";
import { TYPE } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GreeterClient, helloworldServer, sayHello } from "./helloworld.js";
import { type Testbed, testbed } from "./testbed.js";

const HOST = "metered.default.svc.cluster.local";
const NODE = "sidecar~127.0.0.1~metrics-client.default~default.svc.cluster.local";
type Processor = NonNullable<Parameters<typeof startTelemetry>[0]["spanProcessors"]>[number];
type Ended = Parameters<Processor["onEnd"]>[0];
/** Every span config-push ends, as an exporter would get it. */
const ended: Ended[] = [];
const collect: Processor = {
  onStart() {},
  onEnd(s) {
    ended.push(s);
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};
let tel: Telemetry;
let tb: Testbed;
const servers: Array<{ stop(): void }> = [];

beforeAll(async () => {
  tel = await startTelemetry({ serviceName: "config-push", spanProcessors: [collect] });
  tb = await testbed("metrics", NODE);
});
afterAll(async () => {
  for (const s of servers) s.stop();
  await tb.dispose();
  await tel.shutdown();
});

/** The /metrics page, as Prometheus scrapes it. */
async function scrape(): Promise<string> {
  const r = await fetch(`${tel.health.url}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}

/** The value of one series (summed over the labels not given), 0 when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => (m[2] ?? "").includes(`${k}="${v}"`));
    if (has) sum += Number(m[3]);
  }
  return sum;
}

describe("config-push metrics and push spans", () => {
  it("exports Istio's pilot_* series on /metrics, moving with pushes and NACKs, and a span per push linked to its cause", async () => {
    const v1 = await helloworldServer("v1", "m-v1");
    servers.push(v1);
    await tb.publishService("metered", [{ port: v1.port }]);
    const client = new GreeterClient(`xds:///${HOST}:5000`, grpc.credentials.createInsecure());
    await waitFor(async () => (await sayHello(client).catch(() => "")).includes("v1"), 20_000, "first config");

    const before = await scrape();

    expect(value(before, "pilot_xds", { type: "sotw" })).toBe(1);
    expect(before).toMatch(/^# TYPE pilot_xds_pushes counter$/m); // Istio's bare counter names, not *_total
    expect(before).not.toMatch(/pilot_xds_pushes_total/);

    // An endpoint change, carrying the trace of whoever caused it.
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const v2 = await helloworldServer("v2", "m-v2");
    servers.push(v2);
    await tb.publishService("metered", [{ port: v2.port }], { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    await waitFor(async () => (await sayHello(client).catch(() => "")).includes("v2"), 20_000, "endpoint change served");
    const proxy = () => [...tb.cp.ads.proxies.values()].find((p) => p.id === NODE);
    await waitFor(() => proxy()?.types.get(TYPE.endpoint)?.acked === tb.cp.cache.version(TYPE.endpoint), 10_000, "EDS ACK");

    const after = await scrape();
    expect(value(after, "pilot_xds_pushes", { type: "eds" })).toBeGreaterThan(value(before, "pilot_xds_pushes", { type: "eds" }));
    expect(value(after, "pilot_push_triggers", { type: "endpoint" })).toBeGreaterThan(value(before, "pilot_push_triggers", { type: "endpoint" }));
    expect(value(after, "pilot_proxy_convergence_time_count")).toBeGreaterThan(value(before, "pilot_proxy_convergence_time_count"));
    expect(value(after, "pilot_debounce_time_count")).toBeGreaterThan(value(before, "pilot_debounce_time_count"));
    expect(value(after, "pilot_xds_push_time_count", { type: "eds" })).toBeGreaterThan(value(before, "pilot_xds_push_time_count", { type: "eds" }));
    expect(value(after, "pilot_xds_config_size_bytes_sum", { type: "eds" })).toBeGreaterThan(value(before, "pilot_xds_config_size_bytes_sum", { type: "eds" }));
    expect(after).toMatch(/^pilot_proxy_convergence_time_bucket\{[^}]*le="0.5"[^}]*\} \d+$/m);

    // The push's span: linked to the event's trace, cause → debounce → translate → sent → acked.
    await waitFor(() => ended.some((s) => s.name === "xds push" && s.links.some((l) => l.context.traceId === traceId)), 10_000, "push span");
    const span = ended.find((s) => s.name === "xds push" && s.links.some((l) => l.context.traceId === traceId));
    expect(span?.events.map((e) => e.name)).toEqual(["debounce", "translate", "sent", "acked"]);
    expect(span?.attributes["xds.proxies"]).toBe(1);

    // A VirtualService the client must refuse: a NACK, counted by type.
    await tb.publishConfig("VirtualService", "metered", {
      hosts: ["metered"],
      http: [
        {
          route: [
            { destination: { host: "metered" }, weight: 0 },
            { destination: { host: "metered" }, weight: 0 },
          ],
        },
      ],
    });
    await waitFor(() => Boolean(proxy()?.types.get(TYPE.route)?.nacked), 10_000, "RDS NACK");
    const nacked = await scrape();
    expect(value(nacked, "pilot_total_xds_rejects", { type: "rds" })).toBe(value(after, "pilot_total_xds_rejects", { type: "rds" }) + 1);
    expect(value(nacked, "pilot_push_triggers", { type: "config" })).toBeGreaterThan(0);
    // The validator saw the same thing the client refused (and nothing else).
    expect(new Set(tb.cp.xdsViolations.map((v) => v.rule))).toEqual(new Set(["envoy.route.weights"]));
    tb.cp.xdsViolations.length = 0;

    client.close();
  });
});
