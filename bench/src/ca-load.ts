import { Agent, request } from "node:http";
import { connect, constants } from "node:http2";
import { createCsr, generateKey, toPem } from "@isthmus/pki";

// The load generator for bench/ca, in its own process so its CPU is not the server's.
// One set of CSRs (fresh P-256 keys) serves every run, Isthmus's and cfssl's alike.
// Isthmus is spoken to at the gRPC wire level (HTTP/2 + length-prefixed protobuf,
// exactly what grpc-js sends) over one TLS connection with `concurrency` streams in
// flight: a full grpc-js client costs more CPU per call than the CA itself. cfssl gets
// `concurrency` keep-alive HTTP/1.1 connections, its own API's transport.

export type LoadTarget = { kind: "grpc"; address: string; roots: string; tokens: string[] } | { kind: "cfssl"; url: string };
export interface LoadRequest {
  target: LoadTarget;
  n: number;
  concurrency: number;
}
export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  latencies: number[];
  firstError?: string;
  cpuMs: number;
  warmup: number;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** IstioCertificateRequest{csr} as a gRPC message frame. */
function frame(csr: string): Buffer {
  const s = Buffer.from(csr);
  const pb = Buffer.concat([Buffer.from([0x0a]), varint(s.length), s]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(pb.length, 1);
  return Buffer.concat([head, pb]);
}

function grpcCaller(t: Extract<LoadTarget, { kind: "grpc" }>, csrs: string[]) {
  const frames = csrs.map(frame);
  const session = connect(`https://${t.address}`, { ca: t.roots });
  const call = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: "/istio.v1.auth.IstioCertificateService/CreateCertificate",
        "content-type": "application/grpc",
        te: "trailers",
        authorization: `Bearer ${t.tokens[i % t.tokens.length]}`,
        clusterid: "cluster-1",
      });
      let bytes = 0;
      req.on("data", (d: Buffer) => {
        bytes += d.length;
      });
      req.on("trailers", (h) => {
        const status = Number(h["grpc-status"]);
        if (status === 0 && bytes > 5) resolve();
        else reject(new Error(`grpc-status ${status}: ${h["grpc-message"]}`));
      });
      req.on("error", reject);
      req.end(frames[i % frames.length]);
    });
  return { call, close: () => session.close() };
}

function cfsslCaller(t: Extract<LoadTarget, { kind: "cfssl" }>, csrs: string[], concurrency: number) {
  const bodies = csrs.map((c) => Buffer.from(JSON.stringify({ certificate_request: c })));
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL("/api/v1/cfssl/sign", t.url);
  const call = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = bodies[i % bodies.length] as Buffer;
      const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode === 200 && text.includes('"success":true')) resolve();
          else reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
}

let csrs: string[] = [];

async function run(m: LoadRequest): Promise<LoadResult> {
  if (csrs.length < m.n) {
    const keys = Array.from({ length: 64 }, () => generateKey("ec-p256").privateKey);
    csrs = Array.from({ length: m.n }, (_, i) => toPem(createCsr(keys[i % keys.length] as (typeof keys)[number]), "CERTIFICATE REQUEST"));
  }
  const { call, close } = m.target.kind === "grpc" ? grpcCaller(m.target, csrs) : cfsslCaller(m.target, csrs, m.concurrency);
  const warmup = Math.min(500, m.n);
  for (let i = 0; i < warmup; i++) await call(i);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: m.concurrency }, async () => {
      while (next < m.n) {
        const i = next++;
        const s = performance.now();
        try {
          await call(i);
          ok++;
          latencies.push(performance.now() - s);
        } catch (e) {
          failed++;
          firstError ??= (e as Error).message;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  close();
  return { ok, failed, seconds, latencies, cpuMs: (cpu.user + cpu.system) / 1000, warmup, ...(firstError ? { firstError } : {}) };
}

process.on("message", (m: LoadRequest) => {
  run(m).then(
    (result) => process.send?.({ result }),
    (err: unknown) => process.send?.({ error: (err as Error).message }),
  );
});
