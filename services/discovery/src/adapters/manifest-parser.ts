import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { type ManifestLimits, type ParsedManifest, parseManifest } from "../domain/manifest-docs.js";

/** Running from the TypeScript sources (tests, `--conditions=source`) rather than the build. */
const fromSources = import.meta.url.endsWith(".ts");

/** From the sources the worker is TypeScript: a thread of its own needs tsx's loader registered first. */
function tsxBootstrap(): string {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href.replace(/index\.cjs$/, "index.mjs");
  const worker = new URL("./yaml-worker.ts", import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); });`;
}

/**
 * Parses manifest files on a worker thread, one at a time, each within a time limit: a file
 * that takes longer (a pathological document) is refused with the reason and the thread is
 * replaced. Where no worker can start, it parses in place and says so once.
 */
export class ManifestParser {
  private worker: { w: Worker; ready: Promise<boolean> } | undefined;
  private pending = new Map<number, (r: ParsedManifest) => void>();
  private nextId = 0;
  private inPlace = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: { timeoutMs?: number; warn?: (msg: string) => void } = {}) {}

  private static one: ManifestParser | undefined;

  /** The process's parser: one thread for every manifest directory (its thread never keeps the process alive). */
  static shared(warn?: (msg: string) => void): ManifestParser {
    ManifestParser.one ??= new ManifestParser(warn ? { warn } : {});
    return ManifestParser.one;
  }

  private start(): { w: Worker; ready: Promise<boolean> } | undefined {
    if (this.worker || this.inPlace) return this.worker;
    try {
      const w = fromSources ? new Worker(tsxBootstrap(), { eval: true }) : new Worker(new URL("./yaml-worker.js", import.meta.url));
      w.unref();
      let up!: (ok: boolean) => void;
      const ready = new Promise<boolean>((r) => {
        up = r;
      });
      w.on("message", (m: { ready?: true; id: number; result: ParsedManifest }) => {
        if (m.ready) return up(true);
        this.pending.get(m.id)?.(m.result);
        this.pending.delete(m.id);
      });
      const fail = (why: string) => {
        up(false);
        if (this.worker?.w === w) this.worker = undefined;
        for (const [, resolve] of this.pending) resolve({ ok: false, reason: `parser thread ${why}` });
        this.pending.clear();
      };
      w.on("error", (err) => fail(`failed: ${err.message}`));
      w.on("exit", (code) => fail(`exited (${code})`));
      this.worker = { w, ready };
    } catch (err) {
      this.inPlace = true;
      this.o.warn?.(`manifests are parsed on the main thread: no worker (${(err as Error).message})`);
    }
    return this.worker;
  }

  parse(text: string, file: string, limits: ManifestLimits): Promise<ParsedManifest> {
    const run = this.queue.then(() => this.parseOne(text, file, limits));
    this.queue = run.catch(() => {});
    return run;
  }

  private async parseOne(text: string, file: string, limits: ManifestLimits): Promise<ParsedManifest> {
    const started = this.start();
    if (!started) return parseManifest(text, file, limits);
    // The time limit counts from when the thread can take the file, not its start-up.
    if (!(await started.ready)) return { ok: false, reason: "parser thread did not start" };
    const w = started.w;
    const id = this.nextId++;
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    return new Promise<ParsedManifest>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        if (this.worker?.w === w) this.worker = undefined;
        void w.terminate();
        resolve({ ok: false, reason: `took longer than ${timeoutMs} ms to parse` });
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      w.postMessage({ id, text, file, limits });
    });
  }

  async close(): Promise<void> {
    const w = this.worker?.w;
    this.worker = undefined;
    await w?.terminate();
  }
}
