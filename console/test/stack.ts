import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const cliMain = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url));

export interface UpStack {
  mesh: string;
  dir: string;
  /** The console's URL as `isthmus up` printed it. */
  consoleUrl: string;
  out: () => string;
  /** Ctrl-C, as a user stops it; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * `isthmus up` as a child process, the way a user runs it, until the demo client has answered from
 * both versions and the console's URL is printed. Ports are free ones; NATS is the test run's.
 */
export async function startUpStack(o: { mesh: string; natsUrl: string }): Promise<UpStack> {
  const dir = join(mkdtempSync(join(tmpdir(), "isthmus-console-up-")), "state");
  const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL: o.natsUrl, CA_GRPC_PORT: "0", XDS_PORT: "0", CONSOLE_PORT: "0", LOG_LEVEL: "error" };
  delete env.DATABASE_URL;
  const p: ChildProcess = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", cliMain, "up", "--mesh", o.mesh, "--dir", dir, "--health-port", "0"],
    {
      cwd: repoRoot,
      env,
    },
  );
  let out = "";
  p.stdout?.on("data", (b) => {
    out += b;
  });
  p.stderr?.on("data", (b) => {
    out += b;
  });
  const exited = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
  const deadline = Date.now() + 120_000;
  while (!(out.includes("Hello version: v1") && out.includes("Hello version: v2"))) {
    if (Date.now() > deadline || p.exitCode !== null) {
      p.kill("SIGINT");
      throw new Error(`isthmus up did not come up:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const consoleUrl = /console\s+(https?:\/\/\S+)/.exec(out)?.[1];
  if (!consoleUrl) {
    p.kill("SIGINT");
    throw new Error(`isthmus up printed no console URL:\n${out}`);
  }
  return {
    mesh: o.mesh,
    dir,
    consoleUrl,
    out: () => out,
    async stop() {
      p.kill("SIGINT");
      return exited;
    },
  };
}

/** Scale helloworld in one of the stack's manifest-directory clusters: `n` ready endpoints instead of one. */
export function scaleHelloworld(dir: string, cluster: string, n: number): void {
  const f = join(dir, "clusters", cluster, "helloworld.yaml");
  const docs = readFileSync(f, "utf8")
    .split("\n---\n")
    .map((d) => JSON.parse(d) as { kind: string; endpoints?: Array<{ addresses: string[] }> });
  for (const d of docs) {
    if (d.kind !== "EndpointSlice" || !d.endpoints?.[0]) continue;
    const first = d.endpoints[0];
    d.endpoints = [first, ...Array.from({ length: n - 1 }, (_, i) => ({ ...first, addresses: [`127.0.0.${i + 2}`], targetRef: undefined }))];
  }
  writeFileSync(f, docs.map((d) => JSON.stringify(d)).join("\n---\n"));
}
