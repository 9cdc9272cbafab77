import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bus, meshStreamSpecs } from "@isthmus/bus";
import { waitFor } from "@isthmus/testing";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** The stack's environment on a fresh machine: its own nats-server, embedded databases, free ports. */
function stackEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CA_GRPC_PORT: "0", XDS_PORT: "0", CONSOLE_PORT: "0", LOG_LEVEL: "error" };
  delete env.NATS_URL;
  delete env.DATABASE_URL;
  return env;
}

/** Every process below `root`, whatever its process group (ps's parent links). */
function descendants(root: number): Array<{ pid: number; args: string }> {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string }));
  const out: Array<{ pid: number; args: string }> = [];
  const walk = (p: number) => {
    for (const r of rows.filter((x) => x.ppid === p)) {
      out.push({ pid: r.pid, args: r.args });
      walk(r.pid);
    }
  };
  walk(root);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function untilUp(p: ChildProcess): Promise<() => string> {
  let out = "";
  p.stdout?.on("data", (b) => {
    out += b;
  });
  p.stderr?.on("data", (b) => {
    out += b;
  });
  await waitFor(() => out.includes("Ctrl-C stops everything."), 150_000, "the stack up").catch((err: Error) => {
    throw new Error(`${err.message}:\n${out}`);
  });
  return () => out;
}

/** Signal, then: how long until the signalled process exited, and which of the stack's processes outlived it. */
async function stopAndCheck(p: ChildProcess, signal: NodeJS.Signals, target: number): Promise<{ ms: number; left: string[]; tree: string[] }> {
  const tree = descendants(p.pid as number);
  const exited = new Promise((r) => p.once("exit", r));
  const t = Date.now();
  process.kill(target, signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  const ms = Date.now() - t;
  // Whatever is still there a moment after the exit was left behind.
  await new Promise((r) => setTimeout(r, 500));
  const left = tree.filter((x) => alive(x.pid)).map((x) => `${x.pid} ${x.args}`);
  for (const x of tree) if (alive(x.pid)) process.kill(x.pid, "SIGKILL");
  return { ms, left, tree: tree.map((x) => x.args) };
}

describe("stopping the local stack", () => {
  it("SIGTERM to `npm start` stops the stack and leaves no process behind (its own nats-server included)", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "isthmus-stop-")), "state");
    const p = spawn("npm", ["start", "--", "--dir", dir, "--health-port", "0", "--no-demo"], { cwd: repoRoot, env: stackEnv() });
    const out = await untilUp(p);
    const r = await stopAndCheck(p, "SIGTERM", p.pid as number);
    console.log(`SIGTERM to npm start: exited in ${r.ms} ms; ${r.tree.length} processes under it, ${r.left.length} left behind`);
    expect(r.tree.some((a) => /nats-server/.test(a))).toBe(true);
    expect(r.left).toEqual([]);
    expect(out()).toMatch(/stopped\./);
    expect(p.exitCode).toBe(0);
  }, 240_000);

  it("--nats-cluster 3 runs the stack on a local 3-node cluster with R3 streams; Ctrl-C in a terminal (SIGINT to the whole foreground group) stops it all, leaving nothing", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "isthmus-stop-")), "state");
    // A group of its own, as a shell gives a foreground job.
    const p = spawn(process.execPath, ["--conditions=source", "--import", "tsx", main, "up", "--nats-cluster", "3", "--dir", dir, "--health-port", "0"], {
      cwd: repoRoot,
      env: stackEnv(),
      detached: true,
    });
    const out = await untilUp(p);
    const urls = /NATS JetStream\s+(\S+)\s+\(started a 3-node cluster/.exec(out())?.[1]?.split(",") ?? [];
    expect(urls).toHaveLength(3);
    const users = JSON.parse(readFileSync(join(dir, "nats-users.json"), "utf8")) as Array<{ user: string; password: string }>;
    const cli = users.find((u) => u.user === "isthmus-cli");
    const bus = await Bus.connect({ servers: urls, user: "isthmus-cli", password: cli?.password ?? "", waitOnFirstConnect: false });
    const replicas = await Promise.all(meshStreamSpecs("default").map(async (s) => (await bus.jsm.streams.info(s.name)).config.num_replicas));
    await bus.close();
    expect(replicas).toEqual(replicas.map(() => 3));
    const r = await stopAndCheck(p, "SIGINT", -(p.pid as number));
    console.log(`Ctrl-C to isthmus up: exited in ${r.ms} ms; ${r.tree.length} processes under it, ${r.left.length} left behind`);
    expect(r.tree.filter((a) => /nats-server/.test(a))).toHaveLength(3);
    expect(r.left).toEqual([]);
    expect(out()).toMatch(/stopped\./);
    expect(p.exitCode).toBe(0);
  }, 240_000);
});
