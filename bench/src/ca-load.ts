import { connect, constants } from "node:http2";
import { createCsr, generateKey, toPem } from "@isthmus/pki";

// The load generator for bench/ca, in its own process. It speaks gRPC at the wire level
// (HTTP/2 + length-prefixed protobuf, exactly what grpc-js sends) over one TLS
// connection with `concurrency` streams in flight: a full grpc-js client costs more CPU
// per call than the CA itself, and both share this 2-core machine.

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

process.once("message", async (m: { address: string; roots: string; n: number; concurrency: number; tokens: string[] }) => {
  const keys = Array.from({ length: 64 }, () => generateKey("ec-p256").privateKey);
  const frames = Array.from({ length: m.n }, (_, i) => frame(toPem(createCsr(keys[i % keys.length]!), "CERTIFICATE REQUEST")));
  const session = connect(`https://${m.address}`, { ca: m.roots });
  const call = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: "/istio.v1.auth.IstioCertificateService/CreateCertificate",
        "content-type": "application/grpc",
        te: "trailers",
        authorization: `Bearer ${m.tokens[i % m.tokens.length]}`,
        clusterid: "cluster-1",
      });
      let bytes = 0;
      req.on("data", (d: Buffer) => {
        bytes += d.length;
      });
      req.on("trailers", (t) => {
        const status = Number(t["grpc-status"]);
        if (status === 0 && bytes > 5) resolve();
        else reject(new Error(`grpc-status ${status}: ${t["grpc-message"]}`));
      });
      req.on("error", reject);
      req.end(frames[i % frames.length]);
    });
  for (let i = 0; i < Math.min(500, m.n); i++) await call(i);
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
  session.close();
  process.send?.({ result: { ok, failed, seconds, latencies, firstError, cpuMs: (cpu.user + cpu.system) / 1000 } });
});
