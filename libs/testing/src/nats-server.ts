import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./free-port.js";
import { waitForTcp } from "./tcp.js";

export function findNatsServer(): string | undefined {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/local/bin"];
  for (const d of dirs) {
    const p = join(d, "nats-server");
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

/** The version of a nats-server binary, e.g. [2, 9, 10]; undefined when it does not say. */
export function natsServerVersion(bin: string): [number, number, number] | undefined {
  const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * Whether a nats-server knows JetStream's `sync_interval` (2.10 and later): an older one
 * refuses to start on a config that has it.
 */
export function supportsSyncInterval(version: readonly number[] | undefined): boolean {
  if (!version) return false;
  const [major = 0, minor = 0] = version;
  return major > 2 || (major === 2 && minor >= 10);
}

export interface NatsServerOptions {
  /** Enable JetStream with a file store in a temp dir (default true). */
  jetstream?: boolean;
  port?: number;
  /** Extra lines for the server's config file (authorization, leafnodes, ...). */
  config?: string;
  /** A JetStream domain for this server (leaf nodes). */
  domain?: string;
  /** Include the server's log in errors and keep it in `log`. */
  debug?: boolean;
  /** fsync every JetStream write (`sync_interval: always`) where the server supports it. */
  syncAlways?: boolean;
  /**
   * Run in a process group of its own, so a terminal's Ctrl-C (sent to the whole
   * foreground group) leaves it to its owner to stop after the clients that use it.
   */
  ownProcessGroup?: boolean;
}

/**
 * A nats-server of the test's own, on a free port with a temp store, for tests that
 * stop, kill or restart NATS. Restart keeps the port and the store.
 */
export class NatsServer {
  readonly url: string;
  readonly storeDir: string;
  /** The server_name, as stream infos name their leader and replicas. */
  readonly name: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  log = "";

  private constructor(
    readonly bin: string,
    readonly port: number,
    private readonly configFile: string,
    private readonly workDir: string,
    private readonly ownProcessGroup: boolean,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
    this.name = `test-${port}`;
    this.storeDir = join(workDir, "store");
  }

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const bin = findNatsServer();
    if (!bin) throw new Error("nats-server not found: install it (apt-get install -y nats-server) or set NATS_SERVER_BIN");
    const port = opts.port ?? (await freePort());
    const workDir = mkdtempSync(join(tmpdir(), "isthmus-nats-"));
    const lines = [`listen: "127.0.0.1:${port}"`, `server_name: "test-${port}"`];
    if (opts.jetstream !== false) {
      const sync = opts.syncAlways && supportsSyncInterval(natsServerVersion(bin)) ? ', sync_interval: "always"' : "";
      lines.push(`jetstream { store_dir: ${JSON.stringify(join(workDir, "store"))}${sync}${opts.domain ? `, domain: ${JSON.stringify(opts.domain)}` : ""} }`);
    }
    if (opts.config) lines.push(opts.config);
    const configFile = join(workDir, "nats.conf");
    writeFileSync(configFile, `${lines.join("\n")}\n`);
    const s = new NatsServer(bin, port, configFile, workDir, opts.ownProcessGroup ?? false);
    await s.launch();
    return s;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** The server's process id while it runs (for process-tree checks). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private async launch(): Promise<void> {
    const proc = spawn(this.bin, ["-c", this.configFile], { stdio: ["ignore", "pipe", "pipe"], detached: this.ownProcessGroup });
    this.proc = proc;
    const keep = (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-20_000);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    this.exited = new Promise((resolve) =>
      proc.once("exit", () => {
        if (this.proc === proc) this.proc = undefined;
        resolve();
      }),
    );
    try {
      await Promise.race([
        waitForTcp("127.0.0.1", this.port, 15_000),
        this.exited.then(() => {
          throw new Error(`nats-server exited at start:\n${this.log}`);
        }),
      ]);
    } catch (err) {
      proc.kill("SIGKILL");
      throw err;
    }
  }

  /** Graceful stop (SIGTERM), waiting for exit. */
  async stop(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGTERM");
    await this.exited;
  }

  /** Abrupt death (SIGKILL): nothing flushed that the server had not already synced. */
  async kill(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGKILL");
    await this.exited;
  }

  /** Start again on the same port with the same store. */
  async start(): Promise<void> {
    if (this.proc) return;
    await this.launch();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
