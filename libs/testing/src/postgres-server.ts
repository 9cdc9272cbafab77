import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./free-port.js";
import { waitForTcp } from "./tcp.js";
import { waitFor } from "./wait.js";

function binDir(): string | undefined {
  if (process.env.PG_BIN_DIR && existsSync(process.env.PG_BIN_DIR)) return process.env.PG_BIN_DIR;
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(base, v, "bin", "postgres"))) return join(base, v, "bin");
  return undefined;
}

export function postgresAvailable(): boolean {
  return binDir() !== undefined;
}

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, trust auth, a free port),
 * for tests that kill the database. Runs as the `postgres` user when the test runs as root.
 */
export class PostgresServer {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly url: string;
  log = "";

  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
  ) {
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  private static asPostgres(cmd: string, args: string[]): [string, string[]] {
    return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  }

  private static workDir(): { bin: string; dir: string } {
    const bin = binDir();
    if (!bin) throw new Error("PostgreSQL server binaries not found (set PG_BIN_DIR)");
    const dir = mkdtempSync(join(tmpdir(), "isthmus-pg-"));
    if (process.getuid?.() === 0)
      chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString().trim()), Number(execFileSync("id", ["-g", "postgres"]).toString().trim()));
    return { bin, dir };
  }

  static async start(): Promise<PostgresServer> {
    const { bin, dir } = PostgresServer.workDir();
    const [cmd, args] = PostgresServer.asPostgres(join(bin, "initdb"), ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"]);
    execFileSync(cmd, args, { stdio: "ignore" });
    const s = new PostgresServer(bin, dir, await freePort());
    await s.start();
    return s;
  }

  /**
   * A hot standby of `primary`: a base backup taken with pg_basebackup, then streaming
   * replication from it (`-R` writes primary_conninfo and standby.signal). Read-only until
   * promoted. Synchronous (default): the primary acknowledges a commit only once the
   * standby has it, so a failover loses nothing acknowledged.
   */
  static async startStandby(primary: PostgresServer, o: { synchronous?: boolean } = {}): Promise<PostgresServer> {
    const { bin, dir } = PostgresServer.workDir();
    const [cmd, args] = PostgresServer.asPostgres(join(bin, "pg_basebackup"), [
      "-h",
      "127.0.0.1",
      "-p",
      String(primary.port),
      "-U",
      "postgres",
      "-D",
      join(dir, "data"),
      "-X",
      "stream",
      "-R",
      "--no-sync",
    ]);
    execFileSync(cmd, args, { stdio: "pipe" });
    const s = new PostgresServer(bin, dir, await freePort());
    await s.start();
    if (o.synchronous !== false) {
      await primary.query("alter system set synchronous_standby_names = '*'");
      await primary.query("select pg_reload_conf()");
      await waitFor(
        async () => (await primary.query<{ sync_state: string }>("select sync_state from pg_stat_replication")).some((r) => r.sync_state === "sync"),
        20_000,
        "the standby streaming synchronously",
      );
    }
    return s;
  }

  /** One statement on this server, for tests that look beneath a service (replication, a ledger). */
  async query<T extends Record<string, unknown>>(text: string): Promise<T[]> {
    const sql = postgres(this.url, { max: 1, onnotice: () => {} });
    try {
      return (await sql.unsafe(text)) as unknown as T[];
    } finally {
      await sql.end();
    }
  }

  /** A standby becomes a primary (pg_ctl promote), waiting until it takes writes. */
  async promote(): Promise<void> {
    const [cmd, args] = PostgresServer.asPostgres(join(this.bin, "pg_ctl"), ["promote", "-w", "-D", join(this.dir, "data")]);
    execFileSync(cmd, args, { stdio: "pipe" });
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const [cmd, args] = PostgresServer.asPostgres(join(this.bin, "postgres"), [
      "-D",
      join(this.dir, "data"),
      "-p",
      String(this.port),
      "-k",
      this.dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
    ]);
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    p.stderr?.on("data", (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-10_000);
    });
    this.proc = p;
    this.exited = new Promise((r) =>
      p.once("exit", () => {
        if (this.proc === p) this.proc = undefined;
        r();
      }),
    );
    await waitForTcp("127.0.0.1", this.port, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.log}`);
    });
    // Accepting TCP is not accepting queries; wait for startup to finish.
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync(join(this.bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(this.port)], { stdio: "ignore" });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** SIGKILL to the postmaster and its backends: the database vanishes mid-work. */
  async kill(): Promise<void> {
    if (!this.proc) return;
    // The postmaster's pid is in its pid file (runuser may stand between us and it);
    // its backends go first so nothing survives to hold the port.
    const pidFile = join(this.dir, "data", "postmaster.pid");
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : undefined;
    if (pid) {
      try {
        execFileSync("pkill", ["-KILL", "-P", String(pid)], { stdio: "ignore" });
      } catch {
        // no children
      }
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.proc.kill("SIGKILL");
    await this.exited;
    // Backends orphaned by the kill hold the port for a moment; wait until it is free.
    await new Promise((r) => setTimeout(r, 200));
    rmSync(join(this.dir, "data", "postmaster.pid"), { force: true });
    rmSync(join(this.dir, `.s.PGSQL.${this.port}`), { force: true });
    rmSync(join(this.dir, `.s.PGSQL.${this.port}.lock`), { force: true });
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
