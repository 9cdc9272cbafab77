import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Publisher } from "@isthmus/bus";
import { type RunningConfigPush, startConfigPush } from "@isthmus/config-push";
import { buildEvent, serviceStateV1 } from "@isthmus/events";
import { meshFixture } from "@isthmus/testing";
import { outboundCluster, TYPE } from "@isthmus/xds";
import { type Figures, percentile, report, round } from "./report.js";

const S = Number(process.env.BENCH_XDS_SERVICES ?? 1000);

function serviceEvent(mesh: string, i: number, gen: number) {
  return buildEvent(
    serviceStateV1,
    mesh,
    {
      cluster: "c1",
      namespace: "bench",
      name: `svc-${i}`,
      hostname: `svc-${i}.bench.svc.cluster.local`,
      ports: [{ name: "grpc", port: 8080, protocol: "GRPC" }],
      endpoints: [0, 1].map((k) => ({
        address: `10.${i >> 8}.${i & 255}.${((gen * 2 + k) % 250) + 1}`,
        ports: { grpc: 8080 },
        ready: true,
        serving: true,
        terminating: false,
        cluster: "c1",
        network: "",
        locality: { region: "r", zone: "z", subzone: "" },
        labels: { app: `svc-${i}` },
      })),
      stale: false,
    },
    { source: "bench" },
  );
}

/**
 * N simulated proxies (a separate process of raw ADS streams), each subscribed to the
 * endpoints of S services; one endpoint change; the time until every proxy has ACKed the
 * new version, measured at the server; server RSS per proxy; bytes and encodes per push.
 */
export async function benchXds(): Promise<void> {
  const figures: Figures = { services: S };
  const sizes = (process.env.BENCH_XDS_N ?? "1000,5000,10000").split(",").map(Number);
  const modes = (process.env.BENCH_XDS_MODES ?? "sotw,delta").split(",") as Array<"sotw" | "delta">;
  for (const mode of modes) for (const n of sizes) await run(n, mode, figures);
  report("xds", figures, { p99_ack_ms_10000: "target < 1000 (sotw)", rss_kib_per_proxy_10000: "target < 100" });
}

async function run(n: number, mode: "sotw" | "delta", figures: Figures): Promise<void> {
  const fx = await meshFixture("benchxds", { servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
  const pub = new Publisher(fx.bus.js);
  for (let i = 0; i < S; i++) {
    const e = serviceEvent(fx.mesh, i, 0);
    await pub.publish(e.subject, e.event);
  }
  const cp: RunningConfigPush = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222", waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    debounceMs: 100,
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

  // One endpoint change; time until every proxy ACKs the endpoint version it brings.
  const acked = new Map<string, number>();
  let target = "";
  let tChange = 0;
  const prevStatus = cp.ads.onStatus;
  cp.ads.onStatus = (p) => {
    const st = p.types.get(TYPE.endpoint);
    if (target && st?.acked === target && !acked.has(p.id)) acked.set(p.id, performance.now() - tChange);
  };
  const deltaAcked = new Set<unknown>();
  const encodes0 = cp.cache.encodes;
  const bytes0 = cp.ads.bytesSent;
  const cpu0 = process.cpuUsage();
  const e = serviceEvent(fx.mesh, 7, 1);
  const v0 = cp.cache.version(TYPE.endpoint);
  const nonces0 = new Map([...cp.ads.delta].map((d) => [d, d.types.get(TYPE.endpoint)?.nonce]));
  tChange = performance.now();
  await pub.publish(e.subject, e.event);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (cp.cache.version(TYPE.endpoint) === v0) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    target = cp.cache.version(TYPE.endpoint);
    if (mode === "sotw") {
      for (const p of cp.ads.proxies.values()) {
        const st = p.types.get(TYPE.endpoint);
        if (st?.acked === target && !acked.has(p.id)) acked.set(p.id, performance.now() - tChange);
      }
      if (acked.size >= n) break;
    } else {
      for (const d of cp.ads.delta) {
        const st = d.types.get(TYPE.endpoint);
        if (st?.ackedNonce && st.ackedNonce === st.nonce && st.nonce !== nonces0.get(d) && !deltaAcked.has(d)) {
          deltaAcked.add(d);
          acked.set(d.id, performance.now() - tChange);
        }
      }
      if (acked.size >= n) break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const cpu = process.cpuUsage(cpu0);
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
  figures[`${k}encodes_per_push_${n}`] = cp.cache.encodes - encodes0;
  load.send({ stop: true });
  await new Promise((r) => load.once("exit", r));
  await cp.stop();
  await fx.dispose();
}
