import { fileURLToPath } from "node:url";
import { Bus, busOptionsFromEnv, meshStreamSpecs, Publisher, provisionMeshStreams } from "@isthmus/bus";
import { buildEvent, encodeEvent, serviceStateV1 } from "@isthmus/events";
import { enqueue, OutboxRelay, openStore } from "@isthmus/store";
import { createTestDatabase, NatsCluster, uniqueMeshId } from "@isthmus/testing";
import { jetstream } from "@nats-io/jetstream";
import { type Figures, percentile, report, round } from "./report.js";
import { outbox } from "./schema.js";

const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

function sampleEvent(mesh: string, i: number) {
  return buildEvent(
    serviceStateV1,
    mesh,
    {
      cluster: "cluster-1",
      namespace: "default",
      name: `svc-${i % 1000}`,
      hostname: `svc-${i % 1000}.default.svc.cluster.local`,
      ports: [{ name: "grpc", port: 5000, protocol: "GRPC" }],
      endpoints: [
        {
          address: "10.0.0.1",
          ports: { grpc: 5000 },
          ready: true,
          serving: true,
          terminating: false,
          cluster: "cluster-1",
          network: "network1",
          locality: { region: "r", zone: "z", subzone: "" },
          labels: { app: "svc", version: "v1" },
        },
      ],
      stale: false,
    },
    { source: "bench" },
  );
}

/** Sequential publish-with-ack: every call waits for its PubAck. Returns per-call ms. */
async function timeSequential(n: number, publishOne: (i: number) => Promise<unknown>): Promise<{ perSec: number; lat: number[] }> {
  const lat: number[] = new Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await publishOne(i);
    lat[i] = performance.now() - s;
  }
  const secs = (performance.now() - t0) / 1000;
  return { perSec: n / secs, lat: lat.sort((a, b) => a - b) };
}

/**
 * The same publishes on a 3-node cluster of the machine's nats-server (spawned here), to a
 * stream at one replica and to one at three: what replication costs per publish-with-ack.
 */
async function clusterFigures(n: number, w: number): Promise<Record<"r1" | "r3", { perSec: number; p50: number; p99: number; windowPerSec: number }>> {
  const cluster = await NatsCluster.start({ size: 3 });
  try {
    const bus = await Bus.connect({ servers: cluster.urls, waitOnFirstConnect: false });
    const pub = new Publisher(bus.js);
    const out = {} as Record<"r1" | "r3", { perSec: number; p50: number; p99: number; windowPerSec: number }>;
    for (const replicas of [1, 3] as const) {
      const mesh = uniqueMeshId(`bench-r${replicas}`);
      await provisionMeshStreams(bus.jsm, mesh, { historyPerSubject: 1, replicas });
      const events = Array.from({ length: n }, (_, i) => sampleEvent(mesh, i));
      await timeSequential(200, (i) => pub.publish(events[i]!.subject, events[i]!.event, { msgId: `warm-${i}` }));
      const seq = await timeSequential(n, (i) => pub.publish(events[i]!.subject, events[i]!.event, { msgId: `seq-${i}` }));
      const windowed = Array.from({ length: w }, (_, i) => ({ ...sampleEvent(mesh, i), msgId: `win-${i}` }));
      const tw = performance.now();
      await pub.publishWindowed(windowed, 256);
      out[`r${replicas}`] = {
        perSec: seq.perSec,
        p50: percentile(seq.lat, 50),
        p99: percentile(seq.lat, 99),
        windowPerSec: w / ((performance.now() - tw) / 1000),
      };
      for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
    }
    await bus.close();
    return out;
  } finally {
    await cluster.dispose();
  }
}

export async function benchBus(): Promise<void> {
  const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  const mesh = uniqueMeshId("bench");
  const bus = await Bus.connect({ ...busOptionsFromEnv({ ...process.env, NATS_URL: natsUrl }, "bench"), waitOnFirstConnect: false });
  await provisionMeshStreams(bus.jsm, mesh, { historyPerSubject: 1 });
  const pub = new Publisher(bus.js);
  const raw = jetstream(bus.nc);
  const N = Number(process.env.BENCH_N ?? 5_000);
  const ROUNDS = 3;

  // Pre-built events; raw gets the same bytes pre-encoded, so the ratio is the cost of
  // the library (encode, headers, trace, span) over the bare client.
  const events = Array.from({ length: N }, (_, i) => sampleEvent(mesh, i));
  const encoded = events.map((e) => encodeEvent(e.event));
  await timeSequential(500, (i) => raw.publish(events[i]!.subject, encoded[i]!, { msgID: `warm-${i}` })); // warm-up

  const rawRuns: Array<{ perSec: number; lat: number[] }> = [];
  const busRuns: Array<{ perSec: number; lat: number[] }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    rawRuns.push(await timeSequential(N, (i) => raw.publish(events[i]!.subject, encoded[i]!, { msgID: `raw-${r}-${i}` })));
    busRuns.push(await timeSequential(N, (i) => pub.publish(events[i]!.subject, events[i]!.event, { msgId: `bus-${r}-${i}` })));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const rawPerSec = median(rawRuns.map((x) => x.perSec));
  const busPerSec = median(busRuns.map((x) => x.perSec));
  const busLat = busRuns.flatMap((x) => x.lat).sort((a, b) => a - b);
  const rawLat = rawRuns.flatMap((x) => x.lat).sort((a, b) => a - b);

  // Async window: up to 256 acks outstanding.
  const W = Number(process.env.BENCH_WINDOW_N ?? 50_000);
  const windowed = Array.from({ length: W }, (_, i) => ({ ...sampleEvent(mesh, i), msgId: `win-${i}` }));
  const tw = performance.now();
  await pub.publishWindowed(windowed, 256);
  const asyncPerSec = W / ((performance.now() - tw) / 1000);

  // Outbox end to end: rows written in transactions of 100 while the relay runs; the
  // clock stops when the last row is acknowledged by JetStream and marked sent.
  const db = await createTestDatabase("isthmus_bench");
  const store = await openStore({ url: db.url, schema: "bench", migrationsFolder });
  const relay = new OutboxRelay(store, outbox, pub, { idleMs: 5 });
  await relay.start();
  const O = Number(process.env.BENCH_OUTBOX_N ?? 20_000);
  const AGG = 200;
  const to = performance.now();
  for (let i = 0; i < O; i += 100) {
    await store.db.transaction(async (tx) => {
      const rows = [];
      for (let k = i; k < i + 100; k++) rows.push({ ...sampleEvent(mesh, k), aggregate: `agg-${k % AGG}` });
      await enqueue(tx, outbox, rows);
    });
  }
  while ((await relay.backlog()) > 0) await new Promise((r) => setTimeout(r, 5));
  const outboxPerSec = O / ((performance.now() - to) / 1000);
  await relay.stop();
  await store.close();
  await db.drop();

  for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
  await bus.close();

  const C = Number(process.env.BENCH_CLUSTER_N ?? 3_000);
  const CW = Number(process.env.BENCH_CLUSTER_WINDOW_N ?? 20_000);
  const cl = await clusterFigures(C, CW);

  const figures: Figures = {
    publish_per_s: round(busPerSec, 0),
    raw_publish_per_s: round(rawPerSec, 0),
    publish_ratio_vs_raw: round(busPerSec / rawPerSec, 3),
    publish_p50_ms: round(percentile(busLat, 50)),
    publish_p99_ms: round(percentile(busLat, 99)),
    raw_publish_p50_ms: round(percentile(rawLat, 50)),
    raw_publish_p99_ms: round(percentile(rawLat, 99)),
    async_window_publish_per_s: round(asyncPerSec, 0),
    outbox_events_per_s: round(outboxPerSec, 0),
    cluster_r1_publish_per_s: round(cl.r1.perSec, 0),
    cluster_r1_publish_p50_ms: round(cl.r1.p50),
    cluster_r1_publish_p99_ms: round(cl.r1.p99),
    cluster_r1_async_window_publish_per_s: round(cl.r1.windowPerSec, 0),
    cluster_r3_publish_per_s: round(cl.r3.perSec, 0),
    cluster_r3_publish_p50_ms: round(cl.r3.p50),
    cluster_r3_publish_p99_ms: round(cl.r3.p99),
    cluster_r3_async_window_publish_per_s: round(cl.r3.windowPerSec, 0),
    cluster_r3_vs_r1_publish_ratio: round(cl.r3.perSec / cl.r1.perSec, 3),
    events_per_run: N,
    event_bytes: encoded[0]!.length,
  };
  report("bus", figures, {
    publish_ratio_vs_raw: "target >= 0.9",
    async_window_publish_per_s: "window 256",
    outbox_events_per_s: `${O} events, tx of 100, ${AGG} aggregates, Postgres`,
    cluster_r3_publish_per_s: `3 local nats-server processes (own stores), ${C} sequential publishes; async window ${CW}`,
  });
}
