import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, testNatsUrl } from "@isthmus/testing";
import { afterEach, describe, expect, it } from "vitest";
import { readClustersFile, startDiscovery } from "../src/index.js";
import { DiscoveryHarness } from "./harness.js";
import { k8s } from "./objects.js";

let h: DiscoveryHarness;
afterEach(() => h.stop());

describe("cluster registry", () => {
  it("loads a declarative file at start and starts watching a cluster added at run time", async () => {
    h = new DiscoveryHarness();
    const dir = mkdtempSync(join(tmpdir(), "registry-"));
    writeFileSync(join(dir, "svc.yaml"), JSON.stringify(k8s.service("from-file")));
    const file = join(dir, "clusters.yaml");
    writeFileSync(file, `clusters:\n- id: local\n  source: {manifests: ${dir}}\n  mode: discovery-only\n  network: net-a\n`);
    expect(readClustersFile(file)).toEqual([{ id: "local", source: { manifests: dir }, mode: "discovery-only", network: "net-a", region: "", zone: "" }]);
    h.db = await createTestDatabase();
    h.d = await startDiscovery({
      mesh: h.mesh,
      databaseUrl: h.db.url,
      bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
      clustersFile: file,
      reconcileMs: 300,
    });
    await h.until(async () => (await h.states()).has("local/default/from-file"));

    const api = await h.cluster("late"); // registered while discovery runs (NOTIFY)
    api.apply(k8s.service("late-svc"));
    await h.until(async () => (await h.states()).has("late/default/late-svc"), 10_000, "cluster added at run time");
    expect(h.d.leading().sort()).toEqual(["late", "local"]);
  });

  it("refuses a malformed clusters file, naming the problem", () => {
    h = new DiscoveryHarness();
    const dir = mkdtempSync(join(tmpdir(), "registry-"));
    const file = join(dir, "clusters.yaml");
    writeFileSync(file, "clusters:\n- id: Bad_Id\n  source: {nothing: true}\n");
    expect(() => readClustersFile(file)).toThrow(/cluster ids are DNS-label-like|source/);
  });
});
