import * as grpc from "@grpc/grpc-js";
import { KubeApiStandIn, PostgresServer, postgresAvailable } from "@isthmus/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createIntermediate, openCaStore, startCertAuthority } from "../src/index.js";
import { CaClient, type GrpcFailure, kek, makeRoot, workload } from "./harness.js";

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

describe.skipIf(!postgresAvailable())("Postgres killed under the CA", () => {
  it("fails issuance with UNAVAILABLE, keeps serving, and issues again when Postgres is back", async () => {
    const pg = await PostgresServer.start();
    cleanup.push(() => pg.dispose());
    const root = await makeRoot();
    const keys = kek();
    const store = await openCaStore(pg.url);
    await createIntermediate({ mesh: "outage", trustDomain: "cluster.local", rootDir: root.dir, rootKeys: root.keys, store, meshKeys: keys });
    await store.close();
    const api = new KubeApiStandIn();
    await api.start();
    cleanup.push(() => api.stop());
    const ca = await startCertAuthority({
      mesh: "outage",
      trustDomain: "cluster.local",
      databaseUrl: pg.url,
      keys,
      grpcHost: "127.0.0.1",
      grpcPort: 0,
      grpcTls: true,
      serverNames: ["localhost"],
      audiences: ["istio-ca"],
      clusters: [{ id: "cluster-1", access: { kubeconfig: api.kubeconfig() } }],
    });
    cleanup.push(() => ca.stop());
    const client = new CaClient(`localhost:${ca.grpcPort}`, (await ca.bundle()).join(""));
    cleanup.push(async () => client.close());
    const ask = () =>
      client.create({ csr: workload().csrPem, token: api.issueServiceAccountToken({ namespace: "a", serviceAccount: "b" }), clusterId: "cluster-1" });

    expect(await ask()).toHaveLength(3);
    await pg.kill();
    const failures: GrpcFailure[] = [];
    for (let i = 0; i < 3; i++)
      failures.push(
        await ask().then(
          () => ({ code: grpc.status.OK, details: "issued" }),
          (e: GrpcFailure) => e,
        ),
      );
    for (const f of failures) {
      expect(f.code).toBe(grpc.status.UNAVAILABLE);
      expect(f.details).toMatch(/ledger cannot be written/);
    }
    expect(await ca.ready()).toBe(false);

    await pg.start();
    let chain: string[] | undefined;
    for (let i = 0; i < 50 && !chain; i++) {
      chain = await ask().catch(async () => {
        await new Promise((r) => setTimeout(r, 200));
        return undefined;
      });
    }
    expect(chain).toHaveLength(3);
    expect(await ca.ready()).toBe(true);
  }, 90_000);
});
