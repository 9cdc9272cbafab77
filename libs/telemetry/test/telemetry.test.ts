import { Writable } from "node:stream";
import { Bus, DurableConsumer, meshStreamSpecs, Publisher, provisionMeshStreams } from "@isthmus/bus";
import { buildEvent, configResourceV1 } from "@isthmus/events";
import { NatsServer, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { trace } from "@opentelemetry/api";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelemetry, type Telemetry } from "../src/index.js";

let tel: Telemetry;
beforeAll(async () => {
  tel = await startTelemetry({ serviceName: "telemetry-test" });
});
afterAll(async () => {
  await tel.shutdown();
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${tel.health.url}${path}`);
  return { status: r.status, body: await r.text() };
}

describe("telemetry", () => {
  it("serves /healthz, /metrics with the service's own instruments, and 404 elsewhere", async () => {
    const counter = tel.meter.createCounter("isthmus_test_things_total", { description: "things" });
    counter.add(3, { kind: "x" });
    expect((await get("/healthz")).status).toBe(200);
    const m = await get("/metrics");
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/isthmus_test_things_total\{kind="x"[^}]*\} 3/);
    // A counter declared without _total keeps its name (Istio's pilot_* counters), one with it is not doubled.
    tel.meter.createCounter("isthmus_test_bare", { description: "bare" }).add(2);
    const bare = (await get("/metrics")).body;
    expect(bare).toMatch(/^# TYPE isthmus_test_bare counter$/m);
    expect(bare).toMatch(/^isthmus_test_bare\{[^}]*\} 2$/m);
    expect(bare).not.toMatch(/isthmus_test_bare_total|isthmus_test_things_total_total/);
    expect((await get("/nope")).status).toBe(404);
  });

  it("/readyz follows NATS connectivity: 503 naming the dependency while it is down", async () => {
    const nats = await NatsServer.start();
    const bus = await Bus.connect({ servers: nats.url, maxReconnectDelayMs: 200 });
    tel.health.addCheck("nats", () => bus.connected);
    expect((await get("/readyz")).status).toBe(200);
    await nats.stop();
    await new Promise((r) => setTimeout(r, 300));
    const down = await get("/readyz");
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).checks).toEqual({ nats: false });
    await nats.start();
    const end = Date.now() + 10_000;
    while ((await get("/readyz")).status !== 200 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect((await get("/readyz")).status).toBe(200);
    await bus.close();
    await nats.dispose();
    tel.health.addCheck("nats", () => true);
  });

  it("carries the trace across the bus and into the consumer's log lines", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()));
        cb();
      },
    });
    const log = pino(
      {
        mixin: () => {
          const s = trace.getActiveSpan()?.spanContext();
          return s ? { trace_id: s.traceId } : {};
        },
      },
      sink,
    );
    const mesh = uniqueMeshId("trace");
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    await provisionMeshStreams(bus.jsm, mesh);
    let consumerTrace: string | undefined;
    const consumer = await DurableConsumer.start(bus, { mesh, domain: "config", durable: "tracer" }, async () => {
      consumerTrace = trace.getActiveSpan()?.spanContext().traceId;
      log.info("applied");
    });
    const producerTrace = await trace.getTracer("test").startActiveSpan("produce", async (span) => {
      const e = buildEvent(configResourceV1, mesh, { apiVersion: "v1", kind: "Sidecar", namespace: "n", name: "s", labels: {}, spec: {} }, { source: "t" });
      await new Publisher(bus.js).publish(e.subject, e.event);
      span.end();
      return span.spanContext().traceId;
    });
    const end = Date.now() + 10_000;
    while (!consumerTrace && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await consumer.stop();
    expect(producerTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(producerTrace).not.toBe("00000000000000000000000000000000");
    expect(consumerTrace).toBe(producerTrace);
    expect(lines.find((l) => l.msg === "applied")?.trace_id).toBe(producerTrace);
    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
    await bus.close();
  });
});
