import type { KeyObject } from "node:crypto";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createCsr, generateKey, type KeyAlgorithm } from "@isthmus/pki";
import { createTestDatabase, KubeApiStandIn, type TestDatabase, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { createIntermediate, initRoot, LocalKeyProvider, loadCaProto, openCaStore, type RunningCa, startCertAuthority } from "../src/index.js";

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
  db: TestDatabase;
  api: KubeApiStandIn;
  meshKeys: LocalKeyProvider;
  client: CaClient;
  stop(): Promise<void>;
}

/** A mesh CA in this process: fresh database, an intermediate from `root`, a stand-in cluster. */
export async function startMeshCa(root: Root, o: { bus?: boolean; maxTtlS?: number } = {}): Promise<MeshCa> {
  const mesh = uniqueMeshId("ca");
  const db = await createTestDatabase();
  const meshKeys = kek();
  const store = await openCaStore(db.url);
  await createIntermediate({ mesh, trustDomain: "cluster.local", rootDir: root.dir, rootKeys: root.keys, store, meshKeys });
  await store.close();
  const api = new KubeApiStandIn("cluster-1");
  await api.start();
  const ca = await startCertAuthority({
    mesh,
    trustDomain: "cluster.local",
    databaseUrl: db.url,
    keys: meshKeys,
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    grpcTls: true,
    serverNames: ["localhost"],
    bus: o.bus === false ? undefined : { servers: testNatsUrl(), waitOnFirstConnect: false },
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
      await db.drop();
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

export interface GrpcFailure {
  code: grpc.status;
  details: string;
}

/** A raw Istio CA client, the way an istio-agent calls CreateCertificate. */
export class CaClient {
  private readonly stub: grpc.Client & { CreateCertificate: (...args: unknown[]) => void };

  constructor(address: string, rootsPem: string, clientCert?: { key: string; chain: string }) {
    const Ctor = (loadCaProto() as unknown as { istio: { v1: { auth: { IstioCertificateService: grpc.ServiceClientConstructor } } } }).istio.v1.auth
      .IstioCertificateService;
    const creds = grpc.credentials.createSsl(
      Buffer.from(rootsPem),
      clientCert ? Buffer.from(clientCert.key) : null,
      clientCert ? Buffer.from(clientCert.chain) : null,
    );
    this.stub = new Ctor(address, creds, { "grpc.max_send_message_length": 1024 * 1024 }) as unknown as typeof this.stub;
  }

  create(req: { csr: string; validity_duration?: number; token?: string; clusterId?: string }): Promise<string[]> {
    const md = new grpc.Metadata();
    if (req.token) md.set("authorization", `Bearer ${req.token}`);
    if (req.clusterId) md.set("clusterid", req.clusterId);
    return new Promise((resolve, reject) => {
      this.stub.CreateCertificate(
        { csr: req.csr, validity_duration: req.validity_duration ?? 0 },
        md,
        (err: grpc.ServiceError | null, res: { cert_chain: string[] }) =>
          err ? reject({ code: err.code, details: err.details } satisfies GrpcFailure) : resolve(res.cert_chain),
      );
    });
  }

  close(): void {
    this.stub.close();
  }
}
