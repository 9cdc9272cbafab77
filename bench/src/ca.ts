import { fork } from "node:child_process";
import { randomBytes, sign } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createIntermediate, initRoot, LocalKeyProvider, loadActiveIssuer, openCaStore, startCertAuthority } from "@isthmus/cert-authority";
import { createTestDatabase, KubeApiStandIn } from "@isthmus/testing";
import { type Figures, percentile, report, round } from "./report.js";

/**
 * Issuance end to end — a gRPC CreateCertificate (TLS) to the certificate, with the
 * ledger row and CertificateIssued outbox row committed — against the raw crypto.sign
 * rate of the same CA key in the same run. The load comes from a separate process
 * (ca-load.ts) so the client's own gRPC work does not share the CA's thread.
 */
export async function benchCa(): Promise<void> {
  const N = Number(process.env.BENCH_CA_N ?? 20_000);
  const CONCURRENCY = Number(process.env.BENCH_CA_CONCURRENCY ?? 256);
  const work = mkdtempSync(join(tmpdir(), "isthmus-bench-ca-"));
  const rootKeys = new LocalKeyProvider(randomBytes(32));
  const meshKeys = new LocalKeyProvider(randomBytes(32));
  await initRoot({ dir: join(work, "root"), keys: rootKeys });
  const db = await createTestDatabase("isthmus_bench");
  const store = await openCaStore(db.url);
  await createIntermediate({ mesh: "bench", trustDomain: "cluster.local", rootDir: join(work, "root"), rootKeys, store, meshKeys });
  const active = await loadActiveIssuer(store, "bench", meshKeys);
  await store.close();
  if (!active) throw new Error("no issuer");

  // Raw: the same key signing a certificate-sized message, one thread, back to back.
  const tbs = randomBytes(420);
  let raw = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 3_000) {
    sign("sha256", tbs, active.key);
    raw++;
  }
  const rawPerSec = raw / ((performance.now() - t0) / 1000);

  const api = new KubeApiStandIn("cluster-1");
  await api.start();
  const ca = await startCertAuthority({
    mesh: "bench",
    trustDomain: "cluster.local",
    databaseUrl: db.url,
    keys: meshKeys,
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    grpcTls: true,
    serverNames: ["localhost"],
    audiences: ["istio-ca"],
    clusters: [{ id: "cluster-1", access: { kubeconfig: api.kubeconfig() } }],
  });
  const tokens = Array.from({ length: 16 }, (_, i) => api.issueServiceAccountToken({ namespace: `ns-${i}`, serviceAccount: "app", ttlSeconds: 3600 }));

  const bundle = (await ca.bundle()).join("");
  const cpu0 = process.cpuUsage();
  const load = fork(fileURLToPath(new URL("./ca-load.js", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const result = await new Promise<{ ok: number; failed: number; seconds: number; latencies: number[]; firstError?: string; cpuMs: number }>(
    (resolve, reject) => {
      load.on("message", (m: { result?: { ok: number; failed: number; seconds: number; latencies: number[]; cpuMs: number } }) => {
        if (m.result) resolve(m.result);
      });
      load.once("exit", (code) => code && reject(new Error(`load process exited ${code}`)));
      load.send({ address: `localhost:${ca.grpcPort}`, roots: bundle, n: N, concurrency: CONCURRENCY, tokens });
    },
  );
  const cpu = process.cpuUsage(cpu0);
  load.kill();
  const certsPerSec = result.ok / result.seconds;
  const lat = result.latencies.sort((a, b) => a - b);
  await ca.stop();
  await api.stop();
  await db.drop();

  const figures: Figures = {
    certs_per_s: round(certsPerSec, 0),
    raw_signs_per_s: round(rawPerSec, 0),
    issue_ratio_vs_raw_sign: round(certsPerSec / rawPerSec, 3),
    issue_p50_ms: round(percentile(lat, 50)),
    issue_p99_ms: round(percentile(lat, 99)),
    ca_cpu_ms_per_cert: round((cpu.user + cpu.system) / 1000 / (result.ok + 500)),
    load_cpu_ms_per_cert: round(result.cpuMs / (result.ok + 500)),
    issued: result.ok,
    failed: result.failed,
    concurrency: CONCURRENCY,
  };
  report("ca", figures, { issue_ratio_vs_raw_sign: "target >= 0.25", certs_per_s: "gRPC over TLS, CSR verified, ledger + outbox committed" });
  if (result.firstError) process.stdout.write(`first error: ${result.firstError}\n`);
}
