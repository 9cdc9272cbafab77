import { x509 } from "@isthmus/pki";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeshCa, makeRoot, startMeshCa, workload } from "../../services/cert-authority/test/harness.js";
import { runIsthmus } from "./run-cli.js";

let m: MeshCa;
const serials: Record<string, string> = {};
beforeAll(async () => {
  m = await startMeshCa(await makeRoot(), { bus: false });
  const issue = async (sa: string, validity: number) => {
    const token = m.api.issueServiceAccountToken({ namespace: "shop", serviceAccount: sa });
    const [leaf] = await m.client.create({ csr: workload().csrPem, token, clusterId: "cluster-1", validity_duration: validity });
    serials[sa] = x509(leaf!).serialNumber.toLowerCase();
  };
  await issue("cart", 0); // 24 h
  await issue("checkout", 600); // expiring within the hour
  await issue("stolen", 0);
  await issue("gone", 1); // expired by the time we list
  await new Promise((r) => setTimeout(r, 1_500));
});
afterAll(() => m.stop());

const isthmus = async (...args: string[]) => {
  const r = await runIsthmus(args, { env: { ...process.env, DATABASE_URL: m.db?.url ?? "" } });
  return { code: r.code, out: r.stdout, err: r.stderr };
};

type Listed = { serial: string; spiffeId: string; status: string; notAfter: string; requester: string; revokeReason: string | null };

describe("isthmus ca list", () => {
  it("shows the ledger's certificates: valid, expiring, revoked, soonest to expire first", async () => {
    expect((await isthmus("ca", "revoke", "--mesh", m.mesh, "--serial", serials.stolen!, "--reason", "key compromise")).code).toBe(0);

    const json = await isthmus("ca", "list", "--mesh", m.mesh, "-o", "json");
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.out) as Listed[];
    const bySa = Object.fromEntries(listed.map((c) => [c.spiffeId.split("/").pop(), c]));
    expect(Object.keys(bySa).sort()).toEqual(["cart", "checkout", "stolen"]); // the expired one is left out
    expect(bySa.cart).toMatchObject({ serial: serials.cart, status: "valid", requester: "k8s:cluster-1" });
    expect(bySa.checkout).toMatchObject({ status: "expiring" });
    expect(bySa.stolen).toMatchObject({ status: "revoked", revokeReason: "key compromise" });
    expect(listed[0]?.spiffeId).toBe("spiffe://cluster.local/ns/shop/sa/checkout");

    const table = await isthmus("ca", "list", "--mesh", m.mesh, "--database-url", m.db?.url ?? "");
    expect(table.out).toMatch(/^SERIAL\s+SPIFFE ID\s+STATUS\s+NOT AFTER\s+REQUESTER\s+ISSUED$/m);
    expect(table.out).toMatch(new RegExp(`${serials.stolen}\\s+spiffe://cluster.local/ns/shop/sa/stolen\\s+revoked`));
    expect(table.out).toMatch(new RegExp(`3 certificates of mesh ${m.mesh}: 1 valid, 1 expiring, 1 revoked`));
  }, 180_000); // each CLI run starts tsx: seconds apiece on a loaded machine

  it("filters by --expiring-within, includes expired ones with --all, and scopes to the mesh", async () => {
    const soon = JSON.parse((await isthmus("ca", "list", "--mesh", m.mesh, "--expiring-within", "30m", "-o", "json")).out) as Listed[];
    expect(soon.map((c) => c.serial)).toEqual([serials.checkout]);
    const all = JSON.parse((await isthmus("ca", "list", "--mesh", m.mesh, "--all", "-o", "json")).out) as Listed[];
    expect(all.find((c) => c.serial === serials.gone)?.status).toBe("expired");
    expect(all).toHaveLength(4);
    expect(JSON.parse((await isthmus("ca", "list", "--mesh", "another-mesh", "-o", "json")).out)).toEqual([]);
    const limited = await isthmus("ca", "list", "--mesh", m.mesh, "--limit", "1");
    expect(limited.out).toMatch(/more certificates match than the 1 shown: raise --limit/);
    const bad = await isthmus("ca", "list", "--mesh", m.mesh, "--expiring-within", "soon");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not a duration: soon/);
  }, 180_000);
});
