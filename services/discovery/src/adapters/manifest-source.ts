import { type FSWatcher, readdirSync, readFileSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import { loadAllYaml } from "@kubernetes/client-node";
import { type ClusterMeta, type EndpointSliceObject, type NodeObject, type PodObject, SERVICE_NAME_LABEL, type ServiceObject } from "../domain/model.js";
import { type ServiceEntryObject, translateServiceEntry, type WorkloadEntryObject } from "../domain/service-entry.js";
import { type ServiceState, type Skipped, translateService } from "../domain/translate.js";
import type { ClusterSource, SourceListener } from "./source.js";

type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };

/**
 * A cluster that is a folder of YAML: Services with EndpointSlices (and Pods, Nodes for
 * labels and locality), ServiceEntries with WorkloadEntries — the local stack, and
 * workloads outside Kubernetes. Re-read whenever a file changes.
 */
export class ManifestSource implements ClusterSource {
  private states = new Map<string, ServiceState>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private signature = "";
  synced = false;

  constructor(
    private readonly dir: string,
    private readonly cluster: ClusterMeta,
    private readonly out: SourceListener,
  ) {}

  private files(): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (/\.(ya?ml|json)$/.test(e.name)) out.push(join(d, e.name));
      }
    };
    walk(this.dir);
    return out.sort();
  }

  /** Re-read everything; returns the keys whose state may have changed. */
  reload(): void {
    const skipped: Skipped[] = [];
    const docs: Doc[] = [];
    let files: string[];
    try {
      files = this.files();
    } catch (err) {
      this.out.status("Disconnected", `cannot read ${this.dir}: ${(err as Error).message}`);
      return;
    }
    this.signature = files.map((f) => `${f}:${statSync(f).mtimeMs}`).join("|");
    for (const f of files) {
      try {
        for (const d of loadAllYaml(readFileSync(f, "utf8"))) if (d && typeof d === "object") docs.push(d as Doc);
      } catch (err) {
        skipped.push({ object: f, reason: `not valid YAML: ${(err as Error).message.split("\n")[0]}` });
      }
    }
    const of = <T>(kind: string) => docs.filter((d) => d.kind === kind) as unknown as T[];
    const pods = new Map(of<PodObject>("Pod").map((p) => [`${p.metadata.namespace ?? "default"}/${p.metadata.name}`, p]));
    const nodes = new Map(of<NodeObject>("Node").map((n) => [n.metadata.name ?? "", n]));
    const slices = of<EndpointSliceObject>("EndpointSlice");
    const next = new Map<string, ServiceState>();
    for (const svc of of<ServiceObject>("Service")) {
      svc.metadata.namespace ??= "default";
      const mine = slices.filter(
        (s) => (s.metadata.namespace ?? "default") === svc.metadata.namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name,
      );
      const r = translateService(this.cluster, svc, mine, { pod: (ns, n) => pods.get(`${ns}/${n}`), node: (n) => nodes.get(n) });
      skipped.push(...r.skipped);
      if (r.state) next.set(`${r.state.namespace}/${r.state.name}`, r.state);
    }
    const workloads = of<WorkloadEntryObject>("WorkloadEntry");
    for (const se of of<ServiceEntryObject>("ServiceEntry")) {
      const r = translateServiceEntry(this.cluster, se, workloads);
      skipped.push(...r.skipped);
      if (r.state) next.set(`${r.state.namespace}/${r.state.name}`, r.state);
    }
    const changed = new Set([...this.states.keys(), ...next.keys()]);
    this.states = next;
    if (skipped.length) this.out.skipped(skipped);
    if (this.synced) this.out.dirty(changed);
  }

  async start(): Promise<void> {
    this.out.status("Connecting");
    this.reload();
    this.synced = true;
    this.out.status("Synced");
    this.out.dirty(this.states.keys());
    try {
      this.watcher = watch(this.dir, { recursive: true }, () => this.reload());
    } catch {
      // no recursive watch on this platform: the poll below covers it
    }
    // Editors replace files in ways fs.watch can miss; a cheap signature poll catches the rest.
    this.poll = setInterval(() => {
      try {
        const sig = this.files()
          .map((f) => `${f}:${statSync(f).mtimeMs}`)
          .join("|");
        if (sig !== this.signature) this.reload();
      } catch {
        // directory briefly gone; next tick
      }
    }, 1_000);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    clearInterval(this.poll);
  }

  keys(): string[] {
    return [...this.states.keys()];
  }

  state(key: string): ServiceState | undefined {
    return this.states.get(key);
  }
}
