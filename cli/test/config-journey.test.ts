import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { testNatsUrl, uniqueMeshId, waitFor } from "@isthmus/testing";
import { grpcBootstrap } from "@isthmus/xds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GreeterClient } from "../src/demo/helloworld.js";
import { runIsthmus, spawnIsthmus } from "./run-cli.js";

const mesh = uniqueMeshId("journey");
const work = mkdtempSync(join(tmpdir(), "isthmus-journey-"));
const configDir = join(work, "state", "config");
const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL: testNatsUrl(), CA_GRPC_PORT: "0", XDS_PORT: "0", CONSOLE_PORT: "0", LOG_LEVEL: "error" };
delete env.DATABASE_URL;
delete env.CONFIG_KUBECONFIG;

let stack: ChildProcess;
let stackOut = "";
let client: grpc.Client;

/** `isthmus <args>` against this test's mesh. */
const isthmus = (args: string[], stdin?: string) => runIsthmus([...args, "--mesh", mesh], { env, ...(stdin !== undefined ? { stdin } : {}) });

const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: helloworld
spec:
  host: helloworld
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
`;
const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: helloworld
spec:
  hosts: [helloworld]
  http:
  - match:
    - headers:
        x-canary: {exact: "yes"}
    route:
    - destination: {host: helloworld, subset: v2}
  - route:
    - destination: {host: helloworld, subset: v1}
      weight: 80
    - destination: {host: helloworld, subset: v2}
      weight: 20
`;
const SPLIT = `---\n# helloworld 80/20 with a canary header\n${DR}---\n${VS}---\n`;

function call(headers: Record<string, string> = {}): Promise<string> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return new Promise((resolve) =>
    (client as unknown as { SayHello: (r: unknown, m: grpc.Metadata, o: unknown, cb: (e: Error | null, r?: { message: string }) => void) => void }).SayHello(
      { name: "journey" },
      md,
      { deadline: Date.now() + 5_000 },
      (e, r) => resolve(e ? `error: ${e.message}` : (r?.message ?? "")),
    ),
  );
}

async function tally(n: number, headers: Record<string, string> = {}): Promise<{ v1: number; v2: number; other: number }> {
  const t = { v1: 0, v2: 0, other: 0 };
  for (let i = 0; i < n; i++) {
    const m = await call(headers);
    if (m.includes("version: v1")) t.v1++;
    else if (m.includes("version: v2")) t.v2++;
    else t.other++;
  }
  return t;
}

/** The split is in force once a sample of calls never reaches v2 more than 35%, and the rule sends canaries to v2. */
const splitInForce = async () => {
  const t = await tally(100);
  return t.v1 >= 65 && t.v2 >= 5 && t.other === 0;
};
const bothEvenly = async () => {
  const t = await tally(100);
  return t.v1 >= 30 && t.v2 >= 30;
};

beforeAll(async () => {
  stack = spawnIsthmus(["up", "--mesh", mesh, "--dir", join(work, "state"), "--health-port", "0"], env);
  stack.stdout?.on("data", (b) => {
    stackOut += b;
  });
  stack.stderr?.on("data", (b) => {
    stackOut += b;
  });
  await waitFor(() => stackOut.includes("Ctrl-C stops everything."), 120_000, "the local stack up");
  const port = /xDS on 127\.0\.0\.1:(\d+)/.exec(stackOut)?.[1];
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = grpcBootstrap({
    server: `127.0.0.1:${port}`,
    nodeId: "sidecar~127.0.0.2~journey-0.default~default.svc.cluster.local",
  });
  const xds = await import("@grpc/grpc-js-xds");
  xds.register();
  client = new GreeterClient("xds:///helloworld.default.svc.cluster.local:5000", grpc.credentials.createInsecure());
  await waitFor(bothEvenly, 30_000, "both versions answer before any configuration");
}, 180_000);

afterAll(async () => {
  client?.close();
  stack?.kill("SIGINT");
  await new Promise((r) => stack?.once("exit", r));
  rmSync(work, { recursive: true, force: true });
});

describe("mesh configuration through the front door (a fresh isthmus up)", () => {
  it("isthmus apply -f splits 80/20 and routes a header to v2; an invalid file applies nothing; delete -f restores both", async () => {
    const file = join(work, "split.yaml");
    writeFileSync(file, SPLIT);
    const applied = await isthmus(["apply", "-f", file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("destinationrule.networking.istio.io/helloworld created");
    expect(applied.stdout).toContain("virtualservice.networking.istio.io/helloworld created");

    await waitFor(splitInForce, 30_000, "80/20 in force");
    const t = await tally(1000);
    expect(t.other).toBe(0);
    expect(Math.abs(t.v1 - 800)).toBeLessThanOrEqual(60);
    const canary = await tally(50, { "x-canary": "yes" });
    expect(canary).toEqual({ v1: 0, v2: 50, other: 0 });

    // One invalid document (a destination without a host, a timeout that is no duration): nothing is applied.
    const bad = join(work, "bad.yaml");
    writeFileSync(
      bad,
      `${DR.replace("v2}", "v3}")}---\n${VS.replace("weight: 80", "weight: 60").replace("- destination: {host: helloworld, subset: v2}\n      weight: 20", "- destination: {subset: v2}\n      weight: 40\n    timeout: soon")}`,
    );
    const refused = await isthmus(["apply", "-f", bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad\.yaml:\d+/);
    expect(refused.stderr).toMatch(/IST0106.*destination.*host/);
    expect(refused.stderr).toMatch(/ISM0007.*timeout.*"soon" is not a duration/);
    expect(refused.stderr).toMatch(/nothing was applied/);
    const dr = JSON.parse((await isthmus(["get", "destinationrule", "helloworld", "-o", "json"])).stdout) as { spec: { subsets: Array<{ labels: object }> } };
    expect(dr.spec.subsets[1]?.labels).toEqual({ version: "v2" }); // the valid first document was not applied either
    const after = await tally(1000);
    expect(Math.abs(after.v1 - 800)).toBeLessThanOrEqual(60);

    // get shows the object with its status; history shows who and when.
    const got = await isthmus(["get", "vs", "helloworld", "-o", "yaml"]);
    expect(got.stdout).toMatch(/kind: VirtualService/);
    expect(got.stdout).toMatch(/isthmus\.io\/origin: cli/);
    const deleted = await isthmus(["delete", "-f", file]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain("virtualservice.networking.istio.io/helloworld deleted");
    await waitFor(bothEvenly, 30_000, "both versions again after delete");
    const hist = await isthmus(["config", "history", "virtualservice/helloworld"]);
    expect(hist.code, hist.stderr).toBe(0);
    expect(hist.stdout).toMatch(/REVISION\s+TIME\s+WHO\s+ORIGIN\s+CHANGE/);
    expect(hist.stdout).toMatch(/\d+\s+\S+\s+\S+\s+cli\s+created/);
    expect(hist.stdout).toMatch(/\d+\s+\S+\s+\S+\s+cli\s+deleted/);
  }, 180_000);

  it("the same journey with a file dropped into the watched config directory, and removed", async () => {
    expect(stackOut).toContain(configDir);
    writeFileSync(join(configDir, "split.yaml"), SPLIT);
    await waitFor(splitInForce, 30_000, "80/20 in force from the config directory");
    const t = await tally(1000);
    expect(Math.abs(t.v1 - 800)).toBeLessThanOrEqual(60);
    expect(await tally(20, { "x-canary": "yes" })).toEqual({ v1: 0, v2: 20, other: 0 });
    const got = await isthmus(["get", "vs", "helloworld", "-o", "json"]);
    expect(JSON.parse(got.stdout).metadata.annotations["isthmus.io/origin"]).toBe("dir:split.yaml");

    // A broken edit keeps the last good state in force.
    writeFileSync(
      join(configDir, "split.yaml"),
      `${SPLIT}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: broken}\nspec: {hosts: 5}\n`,
    );
    await waitFor(() => stackOut.includes("split.yaml not applied"), 10_000, "the stack says the file was not applied");
    expect(await splitInForce()).toBe(true);

    rmSync(join(configDir, "split.yaml"));
    await waitFor(bothEvenly, 30_000, "both versions again once the file is gone");
    const gone = await isthmus(["get", "vs", "helloworld"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/not found/);
  }, 180_000);

  it("two concurrent applies of different versions of one object: one wins, the other is told it is stale", async () => {
    const created = await isthmus(["apply", "-f", "-"], DR);
    expect(created.code, created.stderr).toBe(0);
    const rv = JSON.parse((await isthmus(["get", "dr", "helloworld", "-o", "json"])).stdout).metadata.resourceVersion as string;
    const edit = (lb: string) => DR.replace("spec:\n", `  resourceVersion: "${rv}"\nspec:\n  trafficPolicy: {loadBalancer: {simple: ${lb}}}\n`);
    const [a, b] = await Promise.all([isthmus(["apply", "-f", "-"], edit("LEAST_REQUEST")), isthmus(["apply", "-f", "-"], edit("ROUND_ROBIN"))]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.stderr).toMatch(/Conflict.*changed since the version this write is based on/);
    const winner = a.code === 0 ? "LEAST_REQUEST" : "ROUND_ROBIN";
    const now = JSON.parse((await isthmus(["get", "dr", "helloworld", "-o", "json"])).stdout);
    expect(now.spec.trafficPolicy.loadBalancer.simple).toBe(winner);
    await isthmus(["delete", "dr", "helloworld"]);
  }, 60_000);
});
