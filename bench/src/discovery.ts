import { Bus, type StateItem, StateReader } from "@isthmus/bus";
import { openDiscoveryStore, startDiscovery, upsertCluster } from "@isthmus/discovery";
import { domainFilter, streamName } from "@isthmus/events";
import { createTestDatabase, KubeApiStandIn, uniqueMeshId } from "@isthmus/testing";
import { type Figures, percentile, report, round } from "./report.js";

const SERVICES = 50;

function slice(s: number, gen: number, width = 3) {
  // Each change moves the service to addresses derived from a generation number, so an
  // event tells which change (or later one) it carries.
  const endpoints = Array.from({ length: width }, (_, i) => ({
    addresses: [`10.${s}.${(gen >> 8) & 255}.${((gen + i) % 250) + 1}`],
    conditions: { ready: true },
  }));
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `svc-${s}`, namespace: "default", labels: { "kubernetes.io/service-name": `svc-${s}` }, annotations: { gen: String(gen) } },
    addressType: "IPv4",
    ports: [{ name: "grpc", port: 5000, protocol: "TCP" }],
    endpoints,
  };
}

/**
 * Latency from an EndpointSlice change at the API (the stand-in) to the service's event
 * acknowledged by JetStream (read back from the stream), coalescing included; and heap
 * per endpoint held by discovery for a 10,000-endpoint cluster.
 */
export async function benchDiscovery(): Promise<void> {
  const figures: Figures = {};
  for (const rate of [1, 100, 1000]) {
    const lat = await latencyAt(rate, 10_000);
    figures[`p50_ms_at_${rate}_per_s`] = round(percentile(lat, 50));
    figures[`p99_ms_at_${rate}_per_s`] = round(percentile(lat, 99));
    figures[`samples_at_${rate}_per_s`] = lat.length;
  }
  figures.bytes_per_endpoint = round(await bytesPerEndpoint(), 0);
  report("discovery", figures, { p99_ms_at_100_per_s: "target < 50", bytes_per_endpoint: "heap held by discovery per endpoint (10,000 endpoints)" });
}

async function harness() {
  const api = new KubeApiStandIn("bench");
  await api.start();
  const db = await createTestDatabase("isthmus_bench");
  const store = await openDiscoveryStore(db.url);
  await upsertCluster(store, { id: "bench", source: { kubeconfig: api.kubeconfig() }, mode: "managed", network: "", region: "", zone: "" });
  await store.close();
  const mesh = uniqueMeshId("bench");
  const servers = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  return { api, db, mesh, servers };
}

async function latencyAt(rate: number, durationMs: number): Promise<number[]> {
  const { api, db, mesh, servers } = await harness();
  for (let s = 0; s < SERVICES; s++) {
    api.apply({ apiVersion: "v1", kind: "Service", metadata: { name: `svc-${s}`, namespace: "default" }, spec: { ports: [{ name: "grpc", port: 5000 }] } });
    api.apply(slice(s, 0));
  }
  const d = await startDiscovery({ mesh, databaseUrl: db.url, bus: { servers, waitOnFirstConnect: false }, coalesceMs: 10 });
  const bus = await Bus.connect({ servers, waitOnFirstConnect: false });
  // pending[s] = [gen, time] of changes not yet seen on the stream
  const pending: Array<Array<[number, number]>> = Array.from({ length: SERVICES }, () => []);
  const latencies: number[] = [];
  const reader = new StateReader(bus.js, { stream: streamName(mesh, "discovery"), filter: domainFilter(mesh, "discovery", "service") });
  const gens = new Array(SERVICES).fill(0);
  const reading = (async () => {
    for await (const it of reader as AsyncIterable<StateItem>) {
      if (it.kind !== "state") continue;
      const data = it.event.data as { name: string; endpoints: Array<{ address: string }> };
      const s = Number(data.name.slice(4));
      const now = performance.now();
      // Every change up to the one this state reflects is delivered now.
      const seen = new Set(data.endpoints.map((e) => e.address));
      const q = pending[s] as Array<[number, number]>;
      let last = -1;
      q.forEach(([g], i) => {
        if (slice(s, g).endpoints.every((e) => seen.has(e.addresses[0] as string))) last = i;
      });
      for (const [, t] of q.splice(0, last + 1)) latencies.push(now - t);
    }
  })();
  await new Promise((r) => setTimeout(r, 1_000));
  const interval = 1000 / rate;
  const perTick = rate > 100 ? Math.round(rate / 100) : 1;
  const tickMs = rate > 100 ? 10 : interval;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < durationMs) {
    const tick = performance.now();
    for (let k = 0; k < perTick; k++) {
      const s = n++ % SERVICES;
      const g = ++gens[s];
      (pending[s] as Array<[number, number]>).push([g, performance.now()]);
      api.apply(slice(s, g));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (performance.now() - tick))));
  }
  const end = performance.now() + 10_000;
  while (pending.some((q) => q.length) && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  await reader.close();
  await reading.catch(() => {});
  for (const dmn of ["DISCOVERY", "CONFIG", "CA", "PVL", "PUSH", "DLQ"]) await bus.jsm.streams.delete(`${dmn}_${mesh}`).catch(() => {});
  await bus.close();
  await d.stop();
  await api.stop();
  await db.drop();
  return latencies.sort((a, b) => a - b);
}

async function bytesPerEndpoint(): Promise<number> {
  const { api, db, mesh, servers } = await harness();
  const PER = 100;
  const N = 10_000 / PER;
  for (let s = 0; s < N; s++) {
    api.apply({ apiVersion: "v1", kind: "Service", metadata: { name: `svc-${s}`, namespace: "default" }, spec: { ports: [{ name: "grpc", port: 5000 }] } });
    for (let p = 0; p < PER; p++) {
      api.apply({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `svc-${s}-${p}`, namespace: "default", labels: { app: `svc-${s}`, version: "v1" } },
        spec: { serviceAccountName: `svc-${s}`, nodeName: "n1" },
      });
    }
    api.apply({
      ...slice(s, 0, 0),
      endpoints: Array.from({ length: PER }, (_, p) => ({
        addresses: [`10.${s}.${p >> 8}.${(p & 255) + 1}`],
        conditions: { ready: true },
        targetRef: { kind: "Pod", name: `svc-${s}-${p}`, namespace: "default" },
        nodeName: "n1",
      })),
    });
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const d = await startDiscovery({ mesh, databaseUrl: db.url, bus: { servers, waitOnFirstConnect: false }, coalesceMs: 10 });
  const pub = () => d.publisher("bench")?.eventsPublished ?? 0;
  const end = Date.now() + 60_000;
  while (pub() < N && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  gc?.();
  const after = process.memoryUsage().heapUsed;
  for (const dmn of ["DISCOVERY", "CONFIG", "CA", "PVL", "PUSH", "DLQ"]) await d.bus.jsm.streams.delete(`${dmn}_${mesh}`).catch(() => {});
  await d.stop();
  await api.stop();
  await db.drop();
  return (after - before) / 10_000;
}
