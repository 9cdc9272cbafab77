import { type FSWatcher, watch as fsWatch, mkdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import {
  type Admission,
  admit,
  type ConfigObject,
  formatMessage,
  hasErrors,
  kindByKey,
  MAX_MANIFEST_BYTES,
  manifestFiles,
  objectKey,
  parseManifests,
  type StreamConfigStore,
} from "@isthmus/config";
import { MESH_SUPPORT } from "@isthmus/config-push";

type Say = (line: string) => void;

interface FileState {
  signature: string;
  /** The objects this file applied the last time it was good, by key. */
  objects: Map<string, ConfigObject>;
}

/**
 * A watched config directory (the local stack's and compose's front door besides `isthmus
 * apply`): each file goes through the same admission; a file with an error applies nothing
 * and its last good state stays in force; removing a file (or an object from it) deletes
 * what it had applied, unless someone has applied that object since from elsewhere.
 */
export class ConfigDirSource {
  private readonly files = new Map<string, FileState>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: { dir: string; store: StreamConfigStore; actor: string; say?: Say; pollMs?: number }) {}

  private say(s: string): void {
    this.o.say?.(s);
  }

  private origin(file: string): string {
    return `dir:${relative(this.o.dir, file)}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true });
    // What an earlier run applied from files that are gone (or changed while it was down) is reconciled first.
    for (const v of await this.o.store.list()) {
      const origin = v.data?.origin;
      if (!origin?.startsWith("dir:") || !v.data) continue;
      const file = `${this.o.dir}/${origin.slice(4)}`;
      const st = this.files.get(file) ?? { signature: "", objects: new Map() };
      st.objects.set(objectKey(v.data), v.data as ConfigObject);
      this.files.set(file, st);
    }
    await this.scan();
    try {
      this.watcher = fsWatch(this.o.dir, { recursive: true }, () => this.kick());
    } catch {
      // Polling alone, where recursive watching is not available.
    }
    this.timer = setInterval(() => this.kick(), this.o.pollMs ?? 1000);
  }

  private kick(): void {
    if (this.stopped) return;
    this.running = this.running.then(() => this.scan()).catch((err) => this.say(`config dir: ${(err as Error).message}`));
  }

  /** Wait for the scans asked for so far. */
  settled(): Promise<void> {
    return this.running;
  }

  private signatureOf(file: string): string | undefined {
    try {
      const st = statSync(file);
      return st.isFile() ? `${st.size}:${st.mtimeMs}` : undefined;
    } catch {
      return undefined;
    }
  }

  private async scan(): Promise<void> {
    let present: string[];
    try {
      present = manifestFiles(this.o.dir);
    } catch (err) {
      this.say(`config dir ${this.o.dir}: ${(err as Error).message}`);
      return;
    }
    const seen = new Set(present);
    for (const file of present) {
      const sig = this.signatureOf(file);
      if (sig === undefined || this.files.get(file)?.signature === sig) continue;
      await this.sync(file, sig);
    }
    for (const [file, st] of this.files) {
      if (seen.has(file)) continue;
      await this.retract(file, st.objects.values(), new Set());
      this.files.delete(file);
      if (st.objects.size) this.say(`config dir: ${relative(this.o.dir, file)} removed: its ${st.objects.size} object(s) deleted`);
    }
  }

  private async sync(file: string, signature: string): Promise<void> {
    const name = relative(this.o.dir, file);
    const prev = this.files.get(file) ?? { signature: "", objects: new Map<string, ConfigObject>() };
    let text: string;
    try {
      const st = statSync(file);
      if (st.size > MAX_MANIFEST_BYTES) {
        this.say(`config dir: ${name}: larger than ${MAX_MANIFEST_BYTES} bytes: ignored, its last good state stays`);
        this.files.set(file, { ...prev, signature });
        return;
      }
      text = await readFile(file, "utf8");
    } catch (err) {
      this.say(`config dir: ${name}: ${(err as Error).message}`);
      return;
    }
    const parsed = parseManifests(text, name);
    const admitted: Admission[] = [];
    for (const d of parsed.docs) admitted.push(await admit(d.object, { support: MESH_SUPPORT, origin: d.origin }));
    const bad = admitted.filter((a) => hasErrors(a.messages));
    if (parsed.errors.length || bad.length) {
      for (const e of parsed.errors) this.say(`config dir: Error: ${e.origin}: ${e.message}`);
      for (const a of bad) for (const m of a.messages.filter((x) => x.level === "Error")) this.say(`config dir: ${formatMessage(m)}`);
      this.say(`config dir: ${name} not applied; its last good state stays in force`);
      this.files.set(file, { ...prev, signature });
      return;
    }
    const next = new Map<string, ConfigObject>();
    for (const a of admitted) {
      const obj = a.object as ConfigObject;
      next.set(objectKey(obj), obj);
      for (const m of a.messages) this.say(`config dir: ${formatMessage(m)}`);
      try {
        const r = await this.o.store.apply(obj, { actor: this.o.actor, origin: this.origin(file), messages: a.messages });
        if (r.action !== "unchanged")
          this.say(`config dir: ${name}: ${kindByKey(obj.kind)?.kind ?? obj.kind} ${obj.namespace ? `${obj.namespace}/` : ""}${obj.name} ${r.action}`);
      } catch (err) {
        this.say(`config dir: ${name}: ${obj.name}: ${(err as Error).message}`);
      }
    }
    await this.retract(file, prev.objects.values(), new Set(next.keys()));
    this.files.set(file, { signature, objects: next });
  }

  /** Delete what a file had applied and no longer holds, if that object is still the file's. */
  private async retract(file: string, had: Iterable<ConfigObject>, keep: Set<string>): Promise<void> {
    for (const obj of had) {
      if (keep.has(objectKey(obj))) continue;
      const cur = await this.o.store.current(obj.kind, obj.namespace, obj.name);
      if (cur.version?.origin !== this.origin(file)) continue;
      await this.o.store
        .delete(obj.kind, obj.namespace, obj.name, { actor: this.o.actor, origin: this.origin(file), expectSeq: cur.seq })
        .catch((err) => this.say(`config dir: ${obj.name}: ${(err as Error).message}`));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.close();
    await this.running.catch(() => {});
  }
}
