import { type ChildProcess, fork } from "node:child_process";
import { createPublicKey, randomBytes, sign, verify } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createIntermediate, initRoot, LocalKeyProvider, loadActiveIssuer, openCaStore, startCertAuthority } from "@isthmus/cert-authority";
import { createCsr, generateKey, parseCsr, publicKeyObject } from "@isthmus/pki";
import { query } from "@isthmus/store";
import { createTestDatabase, KubeApiStandIn } from "@isthmus/testing";
import { sql } from "drizzle-orm";
import { startCfssl } from "./ca-cfssl.js";
import type { LoadRequest, LoadResult, LoadTarget } from "./ca-load.js";
import { procCpuMs } from "./proc-cpu.js";
import { type Figures, percentile, report, round } from "./report.js";

const say = (s: string) => process.stdout.write(`bench ca: ${s}\n`);

/** The CA process's CPU profile over the Isthmus run only (BENCH_CA_PROFILE=<file.cpuprofile>). */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    say(`CPU profile of the Isthmus run written to ${file}`);
  };
}

/** One run of the load process against a target. */
function drive(load: ChildProcess, target: LoadTarget, n: number, concurrency: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`load process exited ${code}`));
    load.once("exit", onExit);
    load.once("message", (m: { result?: LoadResult; error?: string }) => {
      load.off("exit", onExit);
      if (m.result) resolve(m.result);
      else reject(new Error(`load process: ${m.error}`));
    });
    load.send({ target, n, concurrency } satisfies LoadRequest);
  });
}

/**
 * The crypto a certificate cannot do without, in this process, one core, back to back:
 * import the CSR's key, verify its proof of possession, sign the certificate. Each is
 * timed alone over the same CSRs; the floor is that per core times the cores.
 */
function cryptoFloor(caKey: Parameters<typeof sign>[2]) {
  const keys = Array.from({ length: 64 }, () => generateKey("ec-p256").privateKey);
  const csrs = Array.from({ length: 2_000 }, (_, i) => parseCsr(createCsr(keys[i % keys.length] as (typeof keys)[number])));
  const time = (f: (i: number) => unknown) => {
    for (let i = 0; i < 200; i++) f(i);
    const t0 = performance.now();
    for (let i = 0; i < csrs.length; i++) f(i);
    return ((performance.now() - t0) * 1000) / csrs.length;
  };
  const importJwkUs = time((i) => publicKeyObject((csrs[i] as (typeof csrs)[number]).key));
  const importDerUs = time((i) => createPublicKey({ key: Buffer.from((csrs[i] as (typeof csrs)[number]).key.spki), format: "der", type: "spki" }));
  const pubs = csrs.map((c) => publicKeyObject(c.key));
  const verifyUs = time((i) => {
    const c = csrs[i] as (typeof csrs)[number];
    if (!verify("sha256", c.info, pubs[i] as (typeof pubs)[number], c.signature)) throw new Error("floor: CSR does not verify");
  });
  const tbs = randomBytes(420);
  const signUs = time(() => sign("sha256", tbs, caKey));
  const perCertUs = Math.min(importJwkUs, importDerUs) + verifyUs + signUs;
  const cores = availableParallelism();
  return { importJwkUs, importDerUs, verifyUs, signUs, cores, floorPerSec: (cores * 1e6) / perCertUs };
}

/**
 * Issuance end to end — a gRPC CreateCertificate over TLS to the certificate, with the
 * ledger row and CertificateIssued outbox row committed — against cfssl (`cfssl serve`,
 * plain HTTP, no database) on the same CSRs at the same concurrency, measured before and
 * after Isthmus in the same run, and against the in-process crypto floor. The load comes
 * from a separate process (ca-load.ts).
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
  const floor = cryptoFloor(active.key);

  const load = fork(fileURLToPath(new URL("./ca-load.js", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  mkdirSync(join(work, "cfssl"));
  const cfssl = await startCfssl(join(work, "cfssl"), say);
  let cfsslBefore: LoadResult | undefined;
  let cfsslAfter: LoadResult | undefined;
  let cfsslCpuMs = 0;
  const cfsslRun = async (c: NonNullable<typeof cfssl>) => {
    const before = c.cpuMs();
    const r = await drive(load, { kind: "cfssl", url: c.url }, N, CONCURRENCY);
    cfsslCpuMs += c.cpuMs() - before;
    return r;
  };
  if (cfssl) cfsslBefore = await cfsslRun(cfssl);

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
  // Postgres's share: the backends serving this database (same machine; NaN otherwise).
  const backends = async () => (await query(ca.store.db, sql`select pid from pg_stat_activity where datname = current_database()`)).map((r) => Number(r.pid));
  const pgCpu = async () => (await backends()).reduce((a, pid) => a + procCpuMs(pid), 0);
  await drive(load, { kind: "grpc", address: `localhost:${ca.grpcPort}`, roots: bundle, tokens }, 300, CONCURRENCY); // opens the pool's connections
  const pg0 = await pgCpu();
  const profile = process.env.BENCH_CA_PROFILE ? await startProfile() : undefined;
  const cpu0 = process.cpuUsage();
  const result = await drive(load, { kind: "grpc", address: `localhost:${ca.grpcPort}`, roots: bundle, tokens }, N, CONCURRENCY);
  const cpu = process.cpuUsage(cpu0);
  const pgMs = (await pgCpu()) - pg0;
  if (profile && process.env.BENCH_CA_PROFILE) await profile(process.env.BENCH_CA_PROFILE);
  await ca.stop();
  await api.stop();
  await db.drop();

  if (cfssl) {
    cfsslAfter = await cfsslRun(cfssl);
    await cfssl.stop();
  }
  load.kill();
  rmSync(work, { recursive: true, force: true });

  const perSec = (r: LoadResult) => r.ok / r.seconds;
  const certsPerSec = perSec(result);
  const lat = result.latencies.sort((a, b) => a - b);
  const cfsslRates = [cfsslBefore, cfsslAfter].filter((r): r is LoadResult => r !== undefined).map(perSec);
  const cfsslMean = cfsslRates.length ? cfsslRates.reduce((a, b) => a + b, 0) / cfsslRates.length : Number.NaN;
  const figures: Figures = {
    certs_per_s: round(certsPerSec, 0),
    cfssl_before_per_s: cfsslBefore ? round(perSec(cfsslBefore), 0) : "n/a",
    cfssl_after_per_s: cfsslAfter ? round(perSec(cfsslAfter), 0) : "n/a",
    ratio_vs_cfssl: cfssl ? round(certsPerSec / cfsslMean, 3) : "n/a",
    floor_import_jwk_us: round(floor.importJwkUs, 1),
    floor_import_der_us: round(floor.importDerUs, 1),
    floor_verify_us: round(floor.verifyUs, 1),
    floor_sign_us: round(floor.signUs, 1),
    floor_certs_per_s: round(floor.floorPerSec, 0),
    ratio_to_floor: round(certsPerSec / floor.floorPerSec, 3),
    issue_p50_ms: round(percentile(lat, 50)),
    issue_p99_ms: round(percentile(lat, 99)),
    cfssl_p99_ms: cfsslAfter
      ? round(
          percentile(
            cfsslAfter.latencies.sort((a, b) => a - b),
            99,
          ),
        )
      : "n/a",
    ca_cpu_ms_per_cert: round((cpu.user + cpu.system) / 1000 / (result.ok + result.warmup)),
    postgres_cpu_ms_per_cert: round(pgMs / (result.ok + result.warmup)),
    load_cpu_ms_per_cert: round(result.cpuMs / (result.ok + result.warmup)),
    cfssl_cpu_ms_per_cert: cfsslBefore && cfsslAfter ? round(cfsslCpuMs / (cfsslBefore.ok + cfsslBefore.warmup + cfsslAfter.ok + cfsslAfter.warmup)) : "n/a",
    issued: result.ok,
    failed: result.failed + (cfsslBefore?.failed ?? 0) + (cfsslAfter?.failed ?? 0),
    concurrency: CONCURRENCY,
    cores: floor.cores,
    cfssl_version: cfssl?.version ?? "n/a",
  };
  report("ca", figures, {
    certs_per_s: "gRPC over TLS, token reviewed, CSR verified, ledger + outbox committed",
    ratio_vs_cfssl: "target >= 1.5; cfssl: plain HTTP, no database, mean of before and after",
    floor_certs_per_s: "cores x 1 / (key import + verify + sign), in process",
  });
  for (const [who, r] of [
    ["isthmus", result],
    ["cfssl before", cfsslBefore],
    ["cfssl after", cfsslAfter],
  ] as const) {
    if (r?.firstError) say(`${who}: first error: ${r.firstError}`);
  }
}
