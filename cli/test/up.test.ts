import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubeConfigFor } from "@isthmus/k8s";
import { KubeApiStandIn, testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { ApiextensionsV1Api, loadYaml, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
/** The demo client's xDS node id (cli/src/commands/up.ts). */
const DEMO_CLIENT = "sidecar~127.0.0.1~sleep-local.default~default.svc.cluster.local";

/** `isthmus up` as a user runs it: until both demo versions have answered, then Ctrl-C; its output and exit code. */
async function runUp(
  args: string[],
  env: NodeJS.ProcessEnv,
  whileUp?: (out: string) => Promise<unknown>,
): Promise<{ out: string; code: unknown; during?: unknown }> {
  const p = spawn(process.execPath, ["--conditions=source", "--import", "tsx", main, "up", ...args], { cwd: repoRoot, env });
  let out = "";
  p.stdout.on("data", (b) => {
    out += b;
  });
  p.stderr.on("data", (b) => {
    out += b;
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !(out.includes("Hello version: v1") && out.includes("Hello version: v2"))) await new Promise((r) => setTimeout(r, 200));
  const during = whileUp ? await whileUp(out).catch((err: unknown) => err) : undefined;
  p.kill("SIGINT");
  const code = await new Promise((r) => p.once("exit", r));
  return { out, code, during };
}

describe("isthmus up (what npm start runs)", () => {
  it("brings the local control plane and the seed 002 demo up, prints answers from both versions, and stops cleanly on Ctrl-C", async () => {
    const mesh = uniqueMeshId("up");
    const dir = join(mkdtempSync(join(tmpdir(), "isthmus-up-")), "state");
    const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL: testNatsUrl(), CA_GRPC_PORT: "0", XDS_PORT: "0", CONSOLE_PORT: "0", LOG_LEVEL: "error" };
    delete env.DATABASE_URL; // embedded databases in the stack's own directory, as on a fresh machine
    // While it runs: what the demo client was given passes Envoy's constraints (`isthmus proxy-config --validate`, as printed).
    const validate = (out: string) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const url = /proxy-config all <proxy-id> --url (\S+)/.exec(out)?.[1] ?? "";
        const args = ["--conditions=source", "--import", "tsx", main, "proxy-config", "all", DEMO_CLIENT, "--url", url, "--validate"];
        const v = spawn(process.execPath, args, { cwd: repoRoot, env });
        let stdout = "";
        v.stdout.on("data", (b) => {
          stdout += b;
        });
        v.stderr.on("data", (b) => {
          stdout += b;
        });
        v.once("exit", (code) => resolve({ code, stdout }));
      });
    const { out, code, during } = await runUp(["--mesh", mesh, "--dir", dir, "--health-port", "0"], env, validate);
    expect(during).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^\d+ resources checked against Envoy's constraints: 0 violation\(s\), \d+ warning\(s\)\n$/m),
    });
    // Its listener, route configuration, cluster and endpoints at least.
    expect(Number(/^(\d+) resources checked/m.exec((during as { stdout: string }).stdout)?.[1])).toBeGreaterThanOrEqual(4);
    expect(out).toMatch(/Isthmus local stack — mesh/);
    expect(out).toMatch(/discovery\s+clusters: cluster-1, cluster-2/);
    expect(out).toMatch(/Hello version: v1, instance: helloworld-v1-local/);
    expect(out).toMatch(/Hello version: v2, instance: helloworld-v2-local/);
    expect(out).toMatch(/stopped\./);
    expect(code).toBe(0);
    const { Bus, meshStreamSpecs } = await import("@isthmus/bus");
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    for (const s of meshStreamSpecs(mesh)) await bus.jsm.streams.delete(s.name).catch(() => {});
    await bus.close();
  }, 150_000);

  it("on a machine with no NATS running starts its own with per-service credentials, runs pvl-manager given a config cluster, and --tls puts every listener on TLS", async () => {
    const api = new KubeApiStandIn("config-cluster");
    await api.start();
    const crd = loadYaml<V1CustomResourceDefinition>(readFileSync(join(repoRoot, "deploy/crds/asmpvlconfigs.istio.alibabacloud.com.yaml"), "utf8"));
    await kubeConfigFor({ kubeconfig: api.kubeconfig() }).makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
    const work = mkdtempSync(join(tmpdir(), "isthmus-up-"));
    writeFileSync(join(work, "config.kubeconfig"), api.kubeconfig());
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CONFIG_KUBECONFIG: join(work, "config.kubeconfig"),
      CA_GRPC_PORT: "0",
      XDS_PORT: "0",
      XDS_PLAINTEXT_PORT: "0",
      CONSOLE_PORT: "0",
      LOG_LEVEL: "error",
    };
    delete env.NATS_URL;
    delete env.DATABASE_URL;
    const { out, code } = await runUp(["--tls", "--dir", join(work, "state"), "--health-port", "0"], env);
    await api.stop();
    expect(out).toMatch(/NATS JetStream\s+nats:\/\/127\.0\.0\.1:\d+\s+\(started .*per-service credentials/);
    expect(out).toMatch(/pvl-manager\s+ASMPvlConfig on the cluster of/);
    expect(out).toMatch(/xDS on 127\.0\.0\.1:\d+ \(mutual TLS/);
    expect(out).toMatch(/health\s+https:\/\/127\.0\.0\.1:\d+\/healthz/);
    expect(out).toMatch(/TLS\s+NATS, xDS, CA and health use/);
    expect(out).toMatch(/Hello version: v1/);
    expect(out).toMatch(/Hello version: v2/);
    // The services ran under their own users: the CLI's line names its own, not a shared one.
    expect(out).toMatch(/NATS_USER=isthmus-cli NATS_PASSWORD=\S+/);
    expect(code).toBe(0);
  }, 150_000);
});
