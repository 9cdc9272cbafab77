import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** `isthmus <args>` started as a user starts it (from the TypeScript sources). */
export function spawnIsthmus(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ["--conditions=source", "--import", "tsx", main, ...args], { cwd: repoRoot, env });
}

/** Run `isthmus <args>` to its end: exit code, stdout, stderr; `stdin` is written to it when given. */
export function runIsthmus(
  args: string[],
  o: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnIsthmus(args, o.env);
  let stdout = "";
  let stderr = "";
  p.stdout?.on("data", (b) => {
    stdout += b;
  });
  p.stderr?.on("data", (b) => {
    stderr += b;
  });
  if (o.stdin !== undefined) p.stdin?.end(o.stdin);
  return new Promise((resolve) => p.once("exit", (code) => resolve({ code, stdout, stderr })));
}
