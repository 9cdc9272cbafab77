import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitFor } from "@isthmus/testing";
import { procCpuMs } from "./proc-cpu.js";

/** The peer bench/ca compares against: `cfssl serve` with a fresh P-256 CA on 127.0.0.1. */
export interface Cfssl {
  url: string;
  version: string;
  /** CPU time cfssl has used so far (Linux /proc; NaN elsewhere). */
  cpuMs(): number;
  stop(): Promise<void>;
}

function onPath(bin: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** cfssl from Debian's golang-cfssl, installed when missing; undefined (and said why) when it cannot be. */
function ensureCfssl(say: (s: string) => void): boolean {
  if (onPath("cfssl")) return true;
  say("cfssl not found: trying `apt-get install -y golang-cfssl`");
  try {
    execFileSync("apt-get", ["install", "-y", "golang-cfssl"], { stdio: "ignore", timeout: 180_000 });
  } catch {
    try {
      execFileSync("apt-get", ["update"], { stdio: "ignore", timeout: 180_000 });
      execFileSync("apt-get", ["install", "-y", "golang-cfssl"], { stdio: "ignore", timeout: 180_000 });
    } catch (err) {
      say(`cannot install cfssl (${(err as Error).message.split("\n")[0]}): the comparison with cfssl is left out`);
      return false;
    }
  }
  return onPath("cfssl");
}

export async function startCfssl(dir: string, say: (s: string) => void): Promise<Cfssl | undefined> {
  if (!ensureCfssl(say)) return undefined;
  writeFileSync(join(dir, "ca-csr.json"), JSON.stringify({ CN: "bench cfssl CA", key: { algo: "ecdsa", size: 256 } }));
  const init = JSON.parse(execFileSync("cfssl", ["genkey", "-initca", join(dir, "ca-csr.json")], { stdio: ["ignore", "pipe", "ignore"] }).toString()) as {
    cert: string;
    key: string;
  };
  writeFileSync(join(dir, "ca.pem"), init.cert);
  writeFileSync(join(dir, "ca-key.pem"), init.key, { mode: 0o600 });
  // The same shape of leaf as Isthmus issues: 24 h, digital signature, server + client auth.
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ signing: { default: { expiry: "24h", usages: ["digital signature", "server auth", "client auth"] } } }),
  );
  const version = /Version: (\S+)/.exec(execFileSync("cfssl", ["version"]).toString())?.[1] ?? "unknown";
  const port = await freePort();
  const args = ["serve", "-address", "127.0.0.1", "-port", String(port), "-ca", join(dir, "ca.pem"), "-ca-key", join(dir, "ca-key.pem")];
  const child: ChildProcess = spawn("cfssl", [...args, "-config", join(dir, "config.json"), "-loglevel", "4"], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/api/v1/cfssl/health`).catch(() => undefined)) !== undefined, 15_000, "cfssl serve listening");
  return {
    url,
    version,
    cpuMs: () => procCpuMs(child.pid),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3_000).unref();
      }),
  };
}
