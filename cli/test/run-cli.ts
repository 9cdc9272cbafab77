import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** The `isthmus` CLI from its sources, as a child process; resolves when it exits. */
export function runIsthmus(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(process.execPath, ["--conditions=source", "--import", "tsx", main, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
  let out = "";
  let err = "";
  p.stdout.on("data", (b) => {
    out += b;
  });
  p.stderr.on("data", (b) => {
    err += b;
  });
  return new Promise((resolve) => p.once("exit", (code) => resolve({ code, out, err })));
}
