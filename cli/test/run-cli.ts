import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** `isthmus ARGS` as a child process from the sources, with these variables added to the environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, ["--conditions=source", "--import", "tsx", main, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  p.stdout.on("data", (b) => {
    stdout += b;
  });
  p.stderr.on("data", (b) => {
    stderr += b;
  });
  return new Promise((resolve) => p.once("exit", (code) => resolve({ code, stdout, stderr })));
}
