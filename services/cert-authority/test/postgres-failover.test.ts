import { X509Certificate } from "node:crypto";
import { PostgresServer, postgresAvailable, TcpRelay, waitFor } from "@isthmus/testing";
import { afterAll, describe, expect, it } from "vitest";
import { makeRoot, startMeshCa, workload } from "./harness.js";

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

// A primary and a hot standby (pg_basebackup + streaming replication, synchronous), behind
// one address as an HA Postgres's read-write service gives it: the address moves to the
// standby when it is promoted.
describe.skipIf(!postgresAvailable())("the CA's Postgres failing over to a standby", () => {
  it("resumes issuance on the promoted standby with every certificate issued before the failover in its ledger", async () => {
    const primary = await PostgresServer.start();
    cleanup.push(() => primary.dispose());
    // Synchronous: a commit (an issued certificate's ledger row) is on the standby before the CA answers.
    const standby = await PostgresServer.startStandby(primary, { synchronous: true });
    cleanup.push(() => standby.dispose());

    const address = await TcpRelay.start({ host: "127.0.0.1", port: primary.port });
    cleanup.push(() => address.close());
    const url = `postgres://postgres@127.0.0.1:${address.port}/postgres`;
    const m = await startMeshCa(await makeRoot(), { bus: false, databaseUrl: url });
    cleanup.push(() => m.stop());
    const ask = () =>
      m.client.create({ csr: workload().csrPem, token: m.api.issueServiceAccountToken({ namespace: "a", serviceAccount: "b" }), clusterId: "cluster-1" });
    const serialOf = (chain: string[]) => new X509Certificate(chain[0] as string).serialNumber.toLowerCase();

    const before: string[] = [];
    for (let i = 0; i < 20; i++) before.push(serialOf(await ask()));

    // The primary dies; the standby is promoted and the address now leads to it.
    await primary.kill();
    const failedAt = Date.now();
    await standby.promote();
    address.setTarget({ host: "127.0.0.1", port: standby.port });
    address.cutAll();
    let after: string[] | undefined;
    let refused = 0;
    await waitFor(
      async () => {
        after = await ask().catch(() => {
          refused++;
          return undefined;
        });
        return after !== undefined;
      },
      60_000,
      "issuance on the promoted standby",
    );
    const resumedMs = Date.now() - failedAt;
    await waitFor(() => m.ca.ready(), 20_000, "the CA ready again");

    const rows = await standby.query<{ serial: string }>("select serial from cert_authority.certificates");
    const serials = new Set(rows.map((r) => r.serial.toLowerCase().replace(/^0+/, "")));
    const missing = before.filter((s) => !serials.has(s.replace(/^0+/, "")));
    console.log(
      `CA Postgres failover: ${before.length} issued before, primary SIGKILLed, standby promoted; issuance resumed ${resumedMs} ms later (${refused} requests refused meanwhile); ledger on the standby: ${rows.length} certificates, ${missing.length} of the ${before.length} missing`,
    );
    expect(missing).toEqual([]);
    expect(serials.has(serialOf(after as string[]).replace(/^0+/, ""))).toBe(true);
  }, 120_000);
});
