import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { fileURLToPath } from "node:url";
import { Publisher } from "@isthmus/bus";
import { type RunningConfigPush, startConfigPush } from "@isthmus/config-push";
import { meshFixture } from "@isthmus/testing";
import { outboundCluster, TYPE } from "@isthmus/xds";
import { type Figures, percentile, report, round } from "./report.js";
import { ratiosToFloor, xdsFloor } from "./xds-floor.js";
import { benchService } from "./xds-services.js";

const S = Number(process.env.BENCH_XDS_SERVICES ?? 1000);

/**
 * N simulated proxies (a separate process of raw ADS streams), each subscribed to the
 * endpoints of S services; one endpoint change; the time until every proxy has ACKed the
 * new version, measured at the server; server RSS per proxy; bytes and encodes per push.
 */
export async function benchXds(): Promise<void> {
  const figures: Figures = { services: S };
  const sizes = (process.env.BENCH_XDS_N ?? "1000,5000,10000").split(",").map(Number);
  const modes = (process.env.BENCH_XDS_MODES ?? "sotw,delta").split(",") as Array<"sotw" | "delta">;
  // The node:http2 floor first, at each N: every figure is also given as its ratio to it.
  if (process.env.BENCH_XDS_FLOOR !== "0") for (const n of sizes) await xdsFloor(n, figures);
  for (const mode of modes) for (const n of sizes) await run(n, mode, figures);
  for (const n of sizes) ratiosToFloor(figures, n);
  report("xds", figures, {
    p99_ack_ms_10000: "target <= 1500 (sotw)",
    delta_p99_ack_ms_10000: "target <= 300",
    initial_sync_ms_10000: "target <= 15000",
    delta_initial_sync_ms_10000: "target <= 15000",
    rss_kib_per_proxy_10000: "target <= 64",
    delta_rss_kib_per_proxy_10000: "target <= 64",
  });
}

async function run(n: number, mode: "sotw" | "delta", figures: Figures): Promise<void> {
  const fx = await meshFixture("benchxds", { servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
  const pub = new Publisher(fx.bus.js);
  for (let i = 0; i < S; i++) {
    const e = benchService(fx.mesh, "c1", i, 0);
    await pub.publish(e.subject, e.event);
  }
  const cp: RunningConfigPush = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222", waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: 100,
    ...(process.env.BENCH_XDS_PUSH_CONCURRENCY ? { maxConcurrentPushes: Number(process.env.BENCH_XDS_PUSH_CONCURRENCY) } : {}),
  });
  await cp.ready;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const clusters = Array.from({ length: S }, (_, i) => outboundCluster(8080, `svc-${i}.bench.svc.cluster.local`));
  const load = fork(fileURLToPath(new URL("./xds-load.js", import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: ["--max-old-space-size=8192"],
  });
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    load.on("message", (msg: { initialDone?: boolean }) => msg.initialDone && resolve());
    load.send({ address: `127.0.0.1:${cp.port}`, n, clusters, mode });
  });
  const initialMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2_000));
  gc?.();
  const rssAfter = process.memoryUsage().rss;

  // One endpoint change; time until every proxy ACKs the endpoint version it brings
  // (seen at the server as the ACKs arrive). The proxies are Envoy-like: their view's cache.
  const view = ([...cp.ads.proxies.values()][0] ?? [...cp.ads.delta][0])?.cache ?? cp.cache;
  const acked = new Map<string, number>();
  let target = "";
  let tChange = 0;
  const prevStatus = cp.ads.onStatus;
  cp.ads.onStatus = (p, connected) => {
    prevStatus(p, connected);
    const st = p.types.get(TYPE.endpoint);
    if (target && st?.acked === target && !acked.has(p.id)) acked.set(p.id, performance.now() - tChange);
  };
  const loadCpu = () =>
    new Promise<number>((resolve) => {
      const on = (msg: { cpu?: NodeJS.CpuUsage }) => {
        if (!msg.cpu) return;
        load.off("message", on);
        resolve((msg.cpu.user + msg.cpu.system) / 1e6);
      };
      load.on("message", on);
      load.send({ cpu: true });
    });
  const loadCpu0 = await loadCpu();
  const encodes0 = view.encodes;
  const bytes0 = cp.ads.bytesSent;
  const cpu0 = process.cpuUsage();
  const e = benchService(fx.mesh, "c1", 7, 1);
  const v0 = view.version(TYPE.endpoint);
  view.onChange(() => {
    target = view.version(TYPE.endpoint);
  });
  const profiler = process.env.BENCH_XDS_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
  }
  tChange = performance.now();
  await pub.publish(e.subject, e.event);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && acked.size < n) await new Promise((r) => setTimeout(r, 20));
  if (view.version(TYPE.endpoint) === v0) throw new Error("the endpoint change never reached the cache");
  const cpu = process.cpuUsage(cpu0);
  figures[`${mode === "delta" ? "delta_" : ""}load_cpu_s_push_${n}`] = round((await loadCpu()) - loadCpu0, 3);
  if (profiler) {
    // BENCH_XDS_PROFILE=1: where the server's time goes during the push (open in Chrome DevTools).
    const { profile } = await profiler.post("Profiler.stop");
    writeFileSync(`bench/results/xds-${mode}-${n}.cpuprofile`, JSON.stringify(profile));
    profiler.disconnect();
  }
  cp.ads.onStatus = prevStatus;
  const lat = [...acked.values()].sort((a, b) => a - b);
  const k = `${mode === "delta" ? "delta_" : ""}`;
  figures[`${k}initial_sync_ms_${n}`] = round(initialMs, 0);
  figures[`${k}p50_ack_ms_${n}`] = round(percentile(lat, 50));
  figures[`${k}p99_ack_ms_${n}`] = round(percentile(lat, 99));
  figures[`${k}max_ack_ms_${n}`] = round(lat[lat.length - 1] ?? Number.NaN);
  figures[`${k}acked_${n}`] = lat.length;
  figures[`${k}rss_kib_per_proxy_${n}`] = round((rssAfter - rssBefore) / 1024 / n, 1);
  figures[`${k}server_cpu_s_push_${n}`] = round((cpu.user + cpu.system) / 1e6, 3);
  figures[`${k}bytes_per_push_${n}`] = cp.ads.bytesSent - bytes0;
  figures[`${k}encodes_per_push_${n}`] = view.encodes - encodes0;
  load.send({ stop: true });
  await new Promise((r) => load.once("exit", r));
  await cp.stop();
  await fx.dispose();
}
