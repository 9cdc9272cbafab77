import { type FSWatcher, watch } from "node:fs";
import { DEFAULT_MANIFEST_LIMITS, type ManifestLimits, type ManifestObject } from "../domain/manifest-docs.js";
import { type ClusterMeta, type EndpointSliceObject, type NodeObject, type PodObject, SERVICE_NAME_LABEL, type ServiceObject } from "../domain/model.js";
import { type ServiceEntryObject, translateServiceEntry, type WorkloadEntryObject } from "../domain/service-entry.js";
import { type ServiceState, type Skipped, translateService } from "../domain/translate.js";
import { DEFAULT_FILE_LIMITS, type FileLimits, listManifestFiles, readManifestFile } from "./manifest-files.js";
import { ManifestParser } from "./manifest-parser.js";
import type { ClusterSource, SourceListener } from "./source.js";

/** What one file last gave: its signature when read, and its objects (the last good ones while it does not parse). */
interface FileEntry {
  signature: string;
  objects: ManifestObject[];
}

export type ManifestSourceLimits = FileLimits & ManifestLimits;

/**
 * A cluster that is a folder of YAML: Services with EndpointSlices (and Pods, Nodes for
 * labels and locality), ServiceEntries with WorkloadEntries — the local stack, and
 * workloads outside Kubernetes. Re-read whenever a file changes: read asynchronously and
 * parsed on a worker thread, one file at a time, within size and time limits, so the rest
 * of the process keeps serving. Nothing in the
 * directory stops the process: what cannot be used is skipped with the reason, and a file
 * that does not parse keeps its last good objects until it does.
 */
export class ManifestSource implements ClusterSource {
  private states = new Map<string, ServiceState>();
  private readonly files = new Map<string, FileEntry>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly limits: ManifestSourceLimits;
  private readonly parser: ManifestParser;
  private unreadable = false;
  private listingSignature = "";
  private translated = false;
  synced = false;

  constructor(
    private readonly dir: string,
    private readonly cluster: ClusterMeta,
    private readonly out: SourceListener,
    limits: Partial<ManifestSourceLimits> = {},
  ) {
    this.limits = { ...DEFAULT_FILE_LIMITS, ...DEFAULT_MANIFEST_LIMITS, ...limits };
    this.parser = ManifestParser.shared((msg) => this.out.skipped([{ object: this.dir, reason: msg }]));
  }

  /** Re-read what changed; calls made while a reload runs coalesce into one more. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.again = false;
          await this.readAll();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.unreadable = true;
        this.out.status("Disconnected", `reading ${this.dir} failed: ${(err as Error).message}`);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  private async readAll(): Promise<void> {
    const skipped: Skipped[] = [];
    let listed: Awaited<ReturnType<typeof listManifestFiles>>;
    try {
      listed = await listManifestFiles(this.dir, this.limits);
    } catch (err) {
      if (!this.unreadable) this.out.status("Disconnected", `cannot read ${this.dir}: ${(err as Error).message}`);
      this.unreadable = true;
      return;
    }
    if (this.unreadable && this.synced) this.out.status("Synced");
    this.unreadable = false;
    // The listing's own findings (a loop, a FIFO) are reported when something changed, like the rest.
    skipped.push(...listed.skipped);
    const signature = listed.skipped.map((x) => `${x.object}:${x.reason}`).join("|");
    let changed = signature !== this.listingSignature || !this.translated;
    this.listingSignature = signature;
    const present = new Set(listed.files.map((f) => f.path));
    for (const f of [...this.files.keys()]) {
      if (!present.has(f)) {
        this.files.delete(f);
        changed = true;
      }
    }
    for (const f of listed.files) {
      const prev = this.files.get(f.path);
      if (prev?.signature === f.signature) continue;
      changed = true;
      const read = await readManifestFile(f.path, this.limits.maxFileBytes);
      // An editor truncates before it writes: an empty file that had objects is being saved.
      const truncated = read.ok && !read.text.trim() && Boolean(prev?.objects.length);
      const { maxNodes, maxObjects } = this.limits;
      const parsed = truncated
        ? { ok: false as const, reason: "empty (being written?)" }
        : read.ok
          ? await this.parser.parse(read.text, f.path, { maxNodes, maxObjects })
          : read;
      if (parsed.ok) {
        this.files.set(f.path, { signature: f.signature, objects: parsed.objects });
        skipped.push(...parsed.skipped);
      } else {
        this.files.set(f.path, { signature: f.signature, objects: prev?.objects ?? [] });
        skipped.push({ object: f.path, reason: `${parsed.reason}; ${prev ? "keeping its last good version" : "nothing read from it yet"}` });
      }
    }
    if (!changed) return;
    this.translated = true;
    await this.translate(skipped);
  }

  /** Every object to service states, yielding to the event loop every few hundred services. */
  private async translate(skipped: Skipped[]): Promise<void> {
    const objects = [...this.files.values()].flatMap((f) => f.objects);
    const of = <T>(kind: string) => objects.filter((d) => d.kind === kind) as unknown as T[];
    const pods = new Map(of<PodObject>("Pod").map((p) => [`${p.metadata.namespace ?? "default"}/${p.metadata.name}`, p]));
    const nodes = new Map(of<NodeObject>("Node").map((n) => [n.metadata.name ?? "", n]));
    // Slices by namespace and service: a directory of thousands of services stays linear.
    const slicesOf = new Map<string, EndpointSliceObject[]>();
    for (const x of of<EndpointSliceObject>("EndpointSlice")) {
      const k = `${x.metadata.namespace ?? "default"}/${x.metadata.labels?.[SERVICE_NAME_LABEL]}`;
      const list = slicesOf.get(k);
      if (list) list.push(x);
      else slicesOf.set(k, [x]);
    }
    const next = new Map<string, ServiceState>();
    // One object's nonsense (a string where a list goes) is that object's problem alone.
    const guarded = (what: string, f: () => { state?: ServiceState; skipped: Skipped[] }) => {
      try {
        const r = f();
        skipped.push(...r.skipped);
        if (r.state) next.set(`${r.state.namespace}/${r.state.name}`, r.state);
      } catch (err) {
        skipped.push({ object: what, reason: `cannot be translated: ${(err as Error).message}` });
      }
    };
    let n = 0;
    const breathe = async () => {
      if (++n % 200 === 0) await new Promise((r) => setImmediate(r));
    };
    for (const svc of of<ServiceObject>("Service")) {
      await breathe();
      const ns = svc.metadata.namespace ?? "default";
      const s = { ...svc, metadata: { ...svc.metadata, namespace: ns } };
      const mine = slicesOf.get(`${ns}/${svc.metadata.name}`) ?? [];
      guarded(`Service ${ns}/${svc.metadata.name}`, () =>
        translateService(this.cluster, s, mine, { pod: (pns, n) => pods.get(`${pns}/${n}`), node: (n) => nodes.get(n) }),
      );
    }
    const workloads = of<WorkloadEntryObject>("WorkloadEntry");
    for (const se of of<ServiceEntryObject>("ServiceEntry")) {
      await breathe();
      guarded(`ServiceEntry ${se.metadata.namespace ?? "default"}/${se.metadata.name}`, () => translateServiceEntry(this.cluster, se, workloads));
    }
    const changed = new Set([...this.states.keys(), ...next.keys()]);
    this.states = next;
    if (skipped.length) this.out.skipped(skipped);
    if (this.synced) this.out.dirty(changed);
  }

  async start(): Promise<void> {
    this.out.status("Connecting");
    await this.reload();
    this.synced = true;
    this.out.status("Synced");
    this.out.dirty(this.states.keys());
    try {
      this.watcher = watch(this.dir, { recursive: true }, () => void this.reload());
      this.watcher.on("error", () => {}); // the poll below carries on
    } catch {
      // no recursive watch on this platform: the poll below covers it
    }
    // Editors replace files in ways fs.watch can miss; the poll re-lists and reads only what changed.
    this.poll = setInterval(() => void this.reload(), 1_000);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.poll);
    await this.reloading;
  }

  keys(): string[] {
    return [...this.states.keys()];
  }

  state(key: string): ServiceState | undefined {
    return this.states.get(key);
  }
}
