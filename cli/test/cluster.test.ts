import { createTestDatabase, type TestDatabase } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIsthmus } from "./run-cli.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function isthmus(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runIsthmus(args, { env: { ...process.env, DATABASE_URL: db.url } });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe("isthmus cluster", () => {
  it("adds, lists and removes clusters of the registry", async () => {
    expect(
      (await isthmus("cluster", "add", "--id", "cluster-1", "--kubeconfig", "/etc/k1.yaml", "--network", "network1", "--region", "cn-hangzhou")).code,
    ).toBe(0);
    expect((await isthmus("cluster", "add", "--id", "cluster-2", "--manifests", "/srv/c2", "--mode", "discovery-only", "--network", "network2")).code).toBe(0);
    const list = JSON.parse((await isthmus("cluster", "list", "--format", "json")).out);
    expect(list).toEqual([
      { id: "cluster-1", source: { kubeconfigPath: "/etc/k1.yaml" }, mode: "managed", network: "network1", region: "cn-hangzhou", zone: "" },
      { id: "cluster-2", source: { manifests: "/srv/c2" }, mode: "discovery-only", network: "network2", region: "", zone: "" },
    ]);
    expect((await isthmus("cluster", "list")).out).toMatch(/cluster-2\s+discovery-only\s+network2/);
    expect((await isthmus("cluster", "remove", "--id", "cluster-1")).code).toBe(0);
    const again = await isthmus("cluster", "remove", "--id", "cluster-1");
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/no cluster cluster-1/);
    const bad = await isthmus("cluster", "add", "--id", "x", "--kubeconfig", "a", "--manifests", "b");
    expect(bad.err).toMatch(/exactly one source/);
  });
});
