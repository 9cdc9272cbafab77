import type { KeyObject } from "node:crypto";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsr, generateKey, type KeyAlgorithm } from "@isthmus/pki";
import { createTestDatabase, KubeApiStandIn, type TestDatabase, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { CaClient as BaseClient, createIntermediate, initRoot, LocalKeyProvider, openCaStore, type RunningCa, startCertAuthority } from "../src/index.js";

export const kek = () => new LocalKeyProvider(randomBytes(32));

export interface Root {
  dir: string;
  keys: LocalKeyProvider;
  certPem: string;
}

export async function makeRoot(alg?: KeyAlgorithm): Promise<Root> {
  const dir = join(mkdtempSync(join(tmpdir(), "isthmus-root-")), "root");
  const keys = kek();
  const r = await initRoot(alg ? { dir, keys, keyAlg: alg } : { dir, keys });
  return { dir, keys, certPem: r.certPem };
}

export interface MeshCa {
  mesh: string;
  ca: RunningCa;
  /** The database of the test's own, unless one was given. */
  db: TestDatabase | undefined;
  api: KubeApiStandIn;
  meshKeys: LocalKeyProvider;
  client: CaClient;
  stop(): Promise<void>;
}

/** A mesh CA in this process: fresh database (or the one given), an intermediate from `root`, a stand-in cluster. */
export async function startMeshCa(root: Root, o: { bus?: boolean; maxTtlS?: number; servers?: string[]; databaseUrl?: string } = {}): Promise<MeshCa> {
  const mesh = uniqueMeshId("ca");
  const db = o.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = o.databaseUrl ?? (db as TestDatabase).url;
  const meshKeys = kek();
  const store = await openCaStore(databaseUrl);
  await createIntermediate({ mesh, trustDomain: "cluster.local", rootDir: root.dir, rootKeys: root.keys, store, meshKeys });
  await store.close();
  const api = new KubeApiStandIn("cluster-1");
  await api.start();
  const ca = await startCertAuthority({
    mesh,
    trustDomain: "cluster.local",
    databaseUrl,
    keys: meshKeys,
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    grpcTls: true,
    serverNames: ["localhost"],
    bus: o.bus === false ? undefined : { servers: o.servers ?? testNatsUrl(), waitOnFirstConnect: false, maxReconnectDelayMs: 500 },
    validity: { defaultTtlMs: 24 * 3_600_000, maxTtlMs: (o.maxTtlS ?? 48 * 3600) * 1000, backdateMs: 60_000 },
    audiences: ["istio-ca"],
    clusters: [{ id: "cluster-1", access: { kubeconfig: api.kubeconfig() } }],
  });
  const client = new CaClient(`localhost:${ca.grpcPort}`, (await ca.bundle()).join(""));
  return {
    mesh,
    ca,
    db,
    api,
    meshKeys,
    client,
    async stop() {
      client.close();
      await ca.stop();
      await api.stop();
      if (ca.bus) for (const d of ["DISCOVERY", "CONFIG", "CA", "PVL", "PUSH", "DLQ"]) await ca.bus?.jsm.streams.delete(`${d}_${mesh}`).catch(() => {});
      await db?.drop();
    },
  };
}

export interface Workload {
  key: KeyObject;
  csrPem: string;
}

export function workload(alg: KeyAlgorithm = "ec-p256", uris?: string[]): Workload {
  const k = generateKey(alg);
  const der = createCsr(k.privateKey, uris ? { uris } : {});
  return { key: k.privateKey, csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n` };
}

export type { CaCallFailure as GrpcFailure } from "../src/index.js";

/** The harness speaks the Istio field name, as the wire does. */
export class CaClient extends BaseClient {
  override create(req: { csr: string; validity_duration?: number; token?: string; clusterId?: string }): Promise<string[]> {
    return super.create({ csr: req.csr, validitySeconds: req.validity_duration ?? 0, token: req.token, clusterId: req.clusterId });
  }
}

export interface TlsIdentity {
  key: string;
  /** Leaf first, then intermediates. */
  chain: string;
  /** The roots this side trusts. */
  roots: string;
}

/** A mutually authenticated TLS handshake between two workloads; "ok" or "refused". */
export async function mtls(server: TlsIdentity, client: TlsIdentity): Promise<"ok" | "refused"> {
  const { createServer, connect } = await import("node:tls");
  const srv = createServer({ key: server.key, cert: server.chain, ca: server.roots, requestCert: true, rejectUnauthorized: true }, (s) => s.end("ok"));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  try {
    return await new Promise((resolve) => {
      const s = connect({ host: "127.0.0.1", port, key: client.key, cert: client.chain, ca: client.roots, checkServerIdentity: () => undefined });
      let data = "";
      s.on("data", (d) => {
        data += d;
      });
      s.on("end", () => resolve(data === "ok" ? "ok" : "refused"));
      s.on("error", () => resolve("refused"));
    });
  } finally {
    srv.close();
  }
}

/** A workload's certificate as TLS material: issued chain (minus root) and its key. */
export function tlsIdentity(w: Workload, chain: string[], roots: string[]): TlsIdentity {
  return { key: w.key.export({ type: "pkcs8", format: "pem" }) as string, chain: chain.slice(0, -1).join(""), roots: roots.join("") };
}
