import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KINDS } from "@isthmus/config";
import { type RunningConfigPush, startConfigPush } from "@isthmus/config-push";
import { KubeApiStandIn, type MeshFixture, meshFixture, testNatsUrl, waitFor } from "@isthmus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIsthmus } from "./run-cli.js";

let fx: MeshFixture;
let api: KubeApiStandIn;
let cp: RunningConfigPush;
const work = mkdtempSync(join(tmpdir(), "isthmus-cfgcluster-"));
const kubeconfig = join(work, "config-cluster.kubeconfig");

beforeAll(async () => {
  fx = await meshFixture("cfgcli");
  api = new KubeApiStandIn("asm-config");
  await api.start();
  for (const k of KINDS)
    api.registerResource({
      group: k.group,
      version: Object.keys(k.versions)[0] as string,
      plural: k.plural,
      kind: k.kind,
      namespaced: k.namespaced,
      statusSubresource: true,
    });
  api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
  writeFileSync(kubeconfig, api.kubeconfig());
  cp = await startConfigPush({
    mesh: fx.mesh,
    bus: { servers: testNatsUrl(), waitOnFirstConnect: false },
    host: "127.0.0.1",
    port: 0,
    configCluster: { kubeconfig: api.kubeconfig() },
  });
  await cp.ready;
}, 120_000);
afterAll(async () => {
  await cp?.stop();
  await api?.stop();
  await fx?.dispose();
});

const isthmus = (...args: string[]) =>
  runIsthmus([...args, "--mesh", fx.mesh, "--kubeconfig", kubeconfig], { env: { ...process.env, NATS_URL: testNatsUrl() } });

describe("isthmus apply / get against a config cluster (the seeds' ASM kubeconfig)", () => {
  it("writes admitted objects there as kubectl would, refuses a file in error, and get shows the status the watcher wrote", async () => {
    const good = join(work, "vs.yaml");
    writeFileSync(
      good,
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ratings}\nspec:\n  hosts: [ratings]\n  http:\n  - route: [{destination: {host: ratings}}]\n    mirror: {host: nowhere}\n    directResponse: {status: 418}\n",
    );
    const applied = await isthmus("apply", "-f", good);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("virtualservice.networking.istio.io/ratings created");
    expect(applied.stderr).toMatch(/ISM0003.*directResponse/);
    expect(api.get("networking.istio.io/v1", "VirtualService", "default", "ratings")).toBeDefined();

    const bad = join(work, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: broken}\nspec: {hosts: [x], http: [{timeout: soon, route: [{destination: {host: x}}]}]}\n",
    );
    const refused = await isthmus("apply", "-f", bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ISM0007.*"soon" is not a duration/);
    expect(api.get("networking.istio.io/v1", "VirtualService", "default", "broken")).toBeUndefined();

    // The watcher admitted it (published on CONFIG) and wrote its messages on the object's status; get reads them back.
    await waitFor(
      () =>
        ((api.get("networking.istio.io/v1", "VirtualService", "default", "ratings") as { status?: { validationMessages?: unknown[] } })?.status
          ?.validationMessages?.length ?? 0) > 0,
      20_000,
      "validationMessages on the object",
    );
    const got = await isthmus("get", "vs", "ratings", "-o", "yaml");
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/validationMessages:/);
    expect(got.stdout).toMatch(/code: ISM0003/);
    const deleted = await isthmus("delete", "vs", "ratings");
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(api.get("networking.istio.io/v1", "VirtualService", "default", "ratings")).toBeUndefined();
  }, 120_000);
});
