import { fork } from "node:child_process";
import { createServer, constants as h2, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type Figures, percentile, round } from "./report.js";

/** A gRPC length-prefixed message of `size` bytes in all (5 of them the prefix). */
export function grpcFrame(size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt8(0, 0);
  b.writeUInt32BE(size - 5, 1);
  return b;
}

const PUSH = grpcFrame(300);

/**
 * The floor of bench/xds on this machine: what Node's own `node:http2` (what grpc-js is
 * built on) costs for the same fan-out, with no xDS, no protobuf and no gRPC library. N
 * streams over 20 connections from a separate load process; each sends a 100-byte
 * gRPC-framed request (the "initial sync": open, request, one 300-byte response, one
 * 100-byte answer), then one push: a 300-byte message to every stream, and the time until
 * each has answered; server CPU for that push; server RSS per stream.
 */
export async function xdsFloor(n: number, figures: Figures): Promise<void> {
  const streams: ServerHttp2Stream[] = [];
  let answered = 0;
  let phase: "initial" | "push" = "initial";
  const latencies: number[] = [];
  let t0 = 0;
  let done: () => void = () => {};
  const server = createServer({ settings: { maxConcurrentStreams: 1_000_000, initialWindowSize: 1 << 20 } });
  server.on("stream", (stream) => {
    stream.respond({ [h2.HTTP2_HEADER_STATUS]: 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    let first = true;
    stream.on("data", () => {
      if (first) {
        // The stream's request: answered with its first response.
        first = false;
        streams.push(stream);
        stream.write(PUSH);
        return;
      }
      answered++;
      if (phase === "push") latencies.push(performance.now() - t0);
      if (answered === n) done();
    });
    stream.on("error", () => {});
  });
  server.on("sessionError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const load = fork(fileURLToPath(new URL("./xds-floor-load.js", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
  const all = (what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`floor: ${what} not complete (${answered}/${n})`)), 120_000);
      done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  t0 = performance.now();
  const initial = all("initial sync");
  load.send({ port, n, connections: 20 });
  await initial;
  figures[`floor_initial_sync_ms_${n}`] = round(performance.now() - t0, 0);
  await new Promise((r) => setTimeout(r, 1_000));
  gc?.();
  figures[`floor_rss_kib_per_proxy_${n}`] = round((process.memoryUsage().rss - rss0) / 1024 / n, 1);

  answered = 0;
  phase = "push";
  const pushed = all("push");
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  for (const s of streams) s.write(PUSH);
  await pushed;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  figures[`floor_p50_ack_ms_${n}`] = round(percentile(latencies, 50));
  figures[`floor_p99_ack_ms_${n}`] = round(percentile(latencies, 99));
  figures[`floor_server_cpu_s_push_${n}`] = round((cpu.user + cpu.system) / 1e6, 3);
  figures[`floor_server_cpu_us_per_proxy_${n}`] = round((cpu.user + cpu.system) / n, 1);

  load.send({ stop: true });
  await new Promise((r) => load.once("exit", r));
  for (const s of streams) if (!s.destroyed) s.end();
  await new Promise<void>((r) => server.close(() => r()));
}

/** Each figure of a run over the same figure of the floor (same N, same run). */
export function ratiosToFloor(figures: Figures, n: number): void {
  for (const k of ["", "delta_"]) {
    for (const f of ["initial_sync_ms", "p99_ack_ms", "server_cpu_s_push", "rss_kib_per_proxy"]) {
      const v = figures[`${k}${f}_${n}`];
      const floor = figures[`floor_${f}_${n}`];
      if (typeof v === "number" && typeof floor === "number" && floor > 0) figures[`${k}ratio_to_floor_${f}_${n}`] = round(v / floor, 1);
    }
  }
}
