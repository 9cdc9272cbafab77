import {
  type Admission,
  admit,
  analyze,
  type ConfigObject,
  discoveredServices,
  formatMessage,
  hasErrors,
  type KindInfo,
  kindByKey,
  kindOf,
  type Message,
  objectKey,
  resolveKindName,
  resourceName,
  StaleWriteError,
  type StoredVersion,
  toManifest,
  validationMessages,
} from "@isthmus/config";
import { MESH_SUPPORT } from "@isthmus/config-push";
import { latestPvlStatus } from "@isthmus/pvl-manager";
import { stringify } from "yaml";
import { CliError } from "./errors.js";
import { readInputs } from "./inputs.js";
import { type ConfigTarget, openTarget, type TargetOptions } from "./target.js";

type Out = (s: string) => void;
const stdout: Out = (s) => process.stdout.write(`${s}\n`);
const stderr: Out = (s) => process.stderr.write(`${s}\n`);

/** istioctl analyze's exit code when it found issues at the failure threshold. */
export const ANALYZE_FOUND_ISSUES = 79;

const ref = (info: KindInfo, name: string) => `${info.kind.toLowerCase()}.${info.group}/${name}`;

interface Admitted {
  origin: string;
  admission: Admission;
  /** metadata.resourceVersion as written in the file: the version this write is based on (kubectl's optimistic concurrency). */
  resourceVersion?: string;
}

/** Read and admit every input document; refuses the lot (naming each problem) if any is in error. */
async function admitInputs(files: readonly string[], namespace: string | undefined, out: Out): Promise<Admitted[]> {
  const { docs, errors } = readInputs(files);
  const admitted: Admitted[] = [];
  for (const d of docs) {
    const rv = (d.object.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
    admitted.push({
      origin: d.origin,
      admission: await admit(d.object, { support: MESH_SUPPORT, origin: d.origin, ...(namespace ? { defaultNamespace: namespace } : {}) }),
      ...(rv !== undefined ? { resourceVersion: String(rv) } : {}),
    });
  }
  for (const e of errors) out(`Error: ${e.origin}: ${e.message}`);
  const failed = admitted.filter((a) => hasErrors(a.admission.messages));
  for (const a of failed) for (const m of a.admission.messages.filter((x) => x.level === "Error")) out(formatMessage(m));
  if (errors.length || failed.length) {
    const n = errors.length + failed.length;
    throw new CliError(`${n} document${n === 1 ? "" : "s"} in error: nothing was applied`);
  }
  if (!admitted.length) throw new CliError("no objects passed to apply");
  return admitted;
}

async function withTarget<T>(o: TargetOptions, f: (t: ConfigTarget) => Promise<T>): Promise<T> {
  const t = await openTarget(o);
  try {
    return await f(t);
  } finally {
    await t.close();
  }
}

/** The objects in force: the config cluster's (admitted) when there is one, else the CONFIG stream's. */
async function currentObjects(
  t: ConfigTarget,
  kind?: KindInfo,
): Promise<Array<{ object: ConfigObject; version?: StoredVersion; raw?: Record<string, unknown> }>> {
  if (t.cluster) {
    const cluster = t.cluster;
    const kinds = kind ? [kind] : (await import("@isthmus/config")).KINDS;
    const out: Array<{ object: ConfigObject; raw: Record<string, unknown> }> = [];
    for (const k of kinds) {
      const items = await cluster.list(k).catch(() => []);
      for (const raw of items) {
        const a = await admit(raw as Record<string, unknown>, { support: MESH_SUPPORT });
        const object = a.object ?? {
          apiVersion: raw.apiVersion ?? "",
          kind: k.key,
          namespace: raw.metadata?.namespace ?? "",
          name: raw.metadata?.name ?? "",
          labels: {},
          spec: (raw.spec ?? {}) as Record<string, unknown>,
        };
        out.push({ object, raw: raw as Record<string, unknown> });
      }
    }
    return out;
  }
  return (await t.stream.list(kind?.key)).filter((v) => v.data).map((v) => ({ object: v.data as ConfigObject, version: v }));
}

export interface ApplyOptions extends TargetOptions {
  filename: string[];
  namespace?: string;
  dryRun?: boolean;
}

/** `isthmus apply -f`: admission for every document first; errors apply nothing; then each is written (stale writes refused). */
export async function apply(o: ApplyOptions, out: Out = stdout, err: Out = stderr): Promise<void> {
  const admitted = await admitInputs(o.filename, o.namespace, err);
  await withTarget(o, async (t) => {
    const context = await analysisContext(
      t,
      admitted.map((a) => a.admission.object as ConfigObject),
    );
    const analysis = analyze(context.objects, { services: context.services });
    let stale = 0;
    for (const a of admitted) {
      const obj = a.admission.object as ConfigObject;
      const info = a.admission.info as KindInfo;
      const res = resourceName(info, obj.namespace, obj.name);
      // Analysis does not refuse (a referenced host may come later), it warns, as istioctl does next to kubectl apply.
      const warnings = [...a.admission.messages, ...analysis.filter((m) => m.resource === res).map((m) => ({ ...m, level: "Warning" as const }))];
      try {
        let action: string;
        if (t.cluster) {
          const manifest = toManifest(obj);
          if (a.resourceVersion) (manifest.metadata as Record<string, unknown>).resourceVersion = a.resourceVersion;
          action = o.dryRun ? "(dry run)" : await t.cluster.apply(info, manifest);
        } else {
          const expectSeq = a.resourceVersion === undefined ? undefined : Number(a.resourceVersion);
          if (expectSeq !== undefined && !Number.isSafeInteger(expectSeq))
            throw new CliError(`${a.origin}: metadata.resourceVersion ${JSON.stringify(a.resourceVersion)} is not one Isthmus issued`);
          action = (
            await t.stream.apply(obj, {
              actor: t.actor,
              origin: "cli",
              messages: a.admission.messages,
              dryRun: o.dryRun ?? false,
              ...(expectSeq !== undefined ? { expectSeq } : {}),
            })
          ).action;
        }
        out(`${ref(info, obj.name)} ${action}${o.dryRun && !t.cluster ? " (dry run)" : ""}`);
      } catch (e) {
        if (!(e instanceof StaleWriteError)) throw e;
        stale++;
        err(`Error from server (Conflict): ${e.message}`);
      }
      for (const m of warnings) err(formatMessage({ ...m, origin: a.origin }));
    }
    if (stale) throw new CliError(`${stale} object${stale === 1 ? " was" : "s were"} stale: not applied`);
  });
}

export interface DeleteOptions extends TargetOptions {
  filename?: string[];
  namespace?: string;
  kind?: string;
  name?: string;
  ignoreNotFound?: boolean;
}

/** `isthmus delete -f FILE` or `isthmus delete KIND NAME`. */
export async function del(o: DeleteOptions, out: Out = stdout, err: Out = stderr): Promise<void> {
  const targets: Array<{ info: KindInfo; namespace: string; name: string }> = [];
  if (o.filename?.length) {
    const { docs, errors } = readInputs(o.filename);
    for (const e of errors) err(`Error: ${e.origin}: ${e.message}`);
    if (errors.length) throw new CliError("cannot read every document: nothing was deleted");
    for (const d of docs) {
      const found = kindOf(String(d.object.apiVersion ?? ""), String(d.object.kind ?? ""));
      if (!found) throw new CliError(`${d.origin}: ${String(d.object.apiVersion)} ${String(d.object.kind)} is not a configuration kind Isthmus knows`);
      const meta = (d.object.metadata ?? {}) as { name?: string; namespace?: string };
      if (!meta.name) throw new CliError(`${d.origin}: metadata.name is required`);
      targets.push({ info: found.info, namespace: found.info.namespaced ? (meta.namespace ?? o.namespace ?? "default") : "", name: meta.name });
    }
  } else {
    const info = o.kind ? resolveKindName(o.kind) : undefined;
    if (!info) throw new CliError(`unknown kind ${JSON.stringify(o.kind)}`);
    if (!o.name) throw new CliError("a name is required (or -f FILE)");
    targets.push({ info, namespace: info.namespaced ? (o.namespace ?? "default") : "", name: o.name });
  }
  await withTarget(o, async (t) => {
    let missing = 0;
    for (const x of targets) {
      const gone = t.cluster
        ? await t.cluster.delete(x.info, x.namespace, x.name)
        : await t.stream.delete(x.info.key, x.namespace, x.name, { actor: t.actor, origin: "cli" });
      if (gone) out(`${ref(x.info, x.name)} deleted`);
      else if (!o.ignoreNotFound) {
        missing++;
        err(`Error from server (NotFound): ${x.info.plural}.${x.info.group} "${x.name}" not found`);
      }
    }
    if (missing) throw new CliError(`${missing} not found`);
  });
}

interface AnalysisInput {
  objects: ConfigObject[];
  services: Awaited<ReturnType<typeof discoveredServices>>;
  translation: Map<string, Message[]>;
}

/** The mesh's config with `extra` laid over it (same kind/namespace/name replaced), what discovery found, and config-push's reports. */
async function analysisContext(t: ConfigTarget, extra: ConfigObject[] = []): Promise<AnalysisInput> {
  const current = (await currentObjects(t)).map((c) => c.object);
  const byKey = new Map(current.map((c) => [objectKey(c), c]));
  for (const e of extra) byKey.set(objectKey(e), e);
  return { objects: [...byKey.values()], services: await discoveredServices(t.bus, t.stream.mesh), translation: await t.stream.translationProblems() };
}

export interface GetOptions extends TargetOptions {
  kind: string;
  name?: string;
  namespace?: string;
  allNamespaces?: boolean;
  output?: "table" | "yaml" | "json";
}

const age = (iso: string | undefined) => {
  if (!iso) return "<unknown>";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
};

/** `isthmus get KIND [NAME]`: like kubectl get, with `status.validationMessages` from admission, analysis and config-push. */
export async function get(o: GetOptions, out: Out = stdout): Promise<void> {
  const info = resolveKindName(o.kind);
  if (!info) throw new CliError(`error: the server doesn't have a resource type ${JSON.stringify(o.kind)}`);
  await withTarget(o, async (t) => {
    const ctx = await analysisContext(t);
    const analysis = analyze(ctx.objects, { services: ctx.services });
    const ns = info.namespaced ? (o.namespace ?? "default") : "";
    const all = (await currentObjects(t, info)).filter(
      (c) => (o.allNamespaces || !info.namespaced || c.object.namespace === ns) && (!o.name || c.object.name === o.name),
    );
    if (o.name && !all.length) throw new CliError(`Error from server (NotFound): ${info.plural}.${info.group} "${o.name}" not found`);
    // On the CONFIG stream an ASMPvlConfig's status is what pvl-manager last published on the PVL stream.
    const pvlStatuses = new Map<string, unknown>();
    if (info.kind === "ASMPvlConfig" && !t.cluster)
      for (const c of all) {
        const st = await latestPvlStatus(t.bus, o.mesh, c.object.name);
        if (st && st.status !== "Deleted") pvlStatuses.set(c.object.name, st);
      }
    const rendered = all.map((c) => {
      const m = toManifest(c.object);
      const res = resourceName(info, c.object.namespace, c.object.name);
      const messages = [
        ...((c.version?.data?.messages ?? []) as Message[]),
        ...analysis.filter((a) => a.resource === res),
        ...(ctx.translation.get(objectKey(c.object)) ?? []),
      ];
      const status = (c.raw?.status ?? pvlStatuses.get(c.object.name)) as Record<string, unknown> | undefined;
      const meta = {
        ...(m.metadata as Record<string, unknown>),
        ...(c.version ? { resourceVersion: String(c.version.seq) } : {}),
        ...(c.version
          ? {
              annotations: {
                ...((m.metadata as { annotations?: object }).annotations ?? {}),
                "isthmus.io/applied-by": c.version.actor ?? "",
                "isthmus.io/applied-at": c.version.time,
                "isthmus.io/origin": c.version.origin ?? "",
              },
            }
          : {}),
      };
      return {
        manifest: {
          ...m,
          metadata: meta,
          ...(status || messages.length
            ? {
                status: {
                  ...(status ?? {}),
                  // On a config cluster the watcher's status is the object's own (plus config-push's report); on the stream it is computed here.
                  ...(c.raw
                    ? {
                        validationMessages: [
                          ...((status?.validationMessages as unknown[] | undefined) ?? []),
                          ...validationMessages(ctx.translation.get(objectKey(c.object)) ?? []),
                        ],
                      }
                    : messages.length
                      ? { validationMessages: validationMessages(messages) }
                      : {}),
                },
              }
            : {}),
        },
        c,
        messages,
      };
    });
    if (o.output === "yaml") {
      out(
        rendered.length === 1 && o.name
          ? stringify(rendered[0]?.manifest).trimEnd()
          : stringify({ apiVersion: "v1", kind: "List", items: rendered.map((r) => r.manifest) }).trimEnd(),
      );
      return;
    }
    if (o.output === "json") {
      out(
        JSON.stringify(
          rendered.length === 1 && o.name ? rendered[0]?.manifest : { apiVersion: "v1", kind: "List", items: rendered.map((r) => r.manifest) },
          null,
          2,
        ),
      );
      return;
    }
    if (!rendered.length) {
      out(info.namespaced && !o.allNamespaces ? `No resources found in ${ns} namespace.` : "No resources found");
      return;
    }
    const rows = rendered.map((r) => [
      ...(o.allNamespaces && info.namespaced ? [r.c.object.namespace] : []),
      r.c.object.name,
      summary(r.messages),
      age(r.c.version?.time ?? (r.c.raw?.metadata as { creationTimestamp?: string } | undefined)?.creationTimestamp),
    ]);
    table([...(o.allNamespaces && info.namespaced ? ["NAMESPACE"] : []), "NAME", "MESSAGES", "AGE"], rows, out);
  });
}

function summary(ms: readonly Message[]): string {
  const e = ms.filter((m) => m.level === "Error").length;
  const w = ms.filter((m) => m.level === "Warning").length;
  return e || w ? [e ? `${e} error${e === 1 ? "" : "s"}` : "", w ? `${w} warning${w === 1 ? "" : "s"}` : ""].filter(Boolean).join(", ") : "none";
}

function table(head: string[], rows: string[][], out: Out): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] as number) + 3))).join("");
  out(line(head));
  for (const r of rows) out(line(r));
}

export interface AnalyzeOptions extends TargetOptions {
  filename?: string[];
  namespace?: string;
  allNamespaces?: boolean;
  /** Analyze the files alone, without the mesh's current configuration. */
  useKube?: boolean;
}

/** `isthmus analyze [-f ...]`: istioctl analyze's messages for the mesh's config, with the files laid over it. */
export async function analyzeCmd(o: AnalyzeOptions, out: Out = stdout): Promise<void> {
  const fileMessages: Message[] = [];
  const fileObjects: ConfigObject[] = [];
  if (o.filename?.length) {
    const { docs, errors } = readInputs(o.filename);
    for (const e of errors) fileMessages.push({ code: "IST0106", name: "SchemaValidationError", level: "Error", message: e.message, resource: e.origin });
    for (const d of docs) {
      const a = await admit(d.object, { support: MESH_SUPPORT, origin: d.origin, ...(o.namespace ? { defaultNamespace: o.namespace } : {}) });
      fileMessages.push(...a.messages);
      if (a.object) fileObjects.push(a.object);
    }
  }
  let messages: Message[];
  if (o.useKube === false) messages = [...fileMessages, ...analyze(fileObjects, { services: [] })];
  else
    messages = await withTarget(o, async (t) => {
      const ctx = await analysisContext(t, fileObjects);
      const stored = o.filename?.length
        ? []
        : (await t.stream.list()).flatMap((v) =>
            ((v.data?.messages ?? []) as Message[]).map((m) => ({
              ...m,
              resource: `${kindByKey(v.data?.kind ?? "")?.kind ?? v.data?.kind} ${v.data?.namespace ? `${v.data.namespace}/` : ""}${v.data?.name}`,
            })),
          );
      const translation = o.filename?.length ? [] : [...ctx.translation.values()].flat();
      const fromFiles = new Set(fileObjects.map((f) => `${kindByKey(f.kind)?.kind} ${f.namespace ? `${f.namespace}/` : ""}${f.name}`));
      const analysis = analyze(ctx.objects, { services: ctx.services }).filter((m) => !o.filename?.length || fromFiles.has(m.resource));
      return [...fileMessages, ...stored, ...translation, ...analysis];
    });
  const ns = o.namespace ?? "default";
  const shown = messages.filter((m) => o.allNamespaces || o.filename?.length || !m.resource.includes("/") || m.resource.includes(` ${ns}/`));
  if (!shown.length) {
    out(`✔ No validation issues found when analyzing ${o.allNamespaces ? "all namespaces" : `namespace: ${ns}`}.`);
    return;
  }
  const order = { Error: 0, Warning: 1, Info: 2 };
  for (const m of [...shown].sort((a, b) => order[a.level] - order[b.level] || (a.resource < b.resource ? -1 : 1))) out(formatMessage(m));
  if (hasErrors(shown)) throw new CliError("Error: Analyzers found issues when analyzing", ANALYZE_FOUND_ISSUES);
}

export interface HistoryOptions extends TargetOptions {
  ref: string;
  namespace?: string;
  output?: "table" | "yaml";
}

/** `isthmus config history KIND/NAME`: every version the CONFIG stream keeps — who, when, from where, what changed. */
export async function history(o: HistoryOptions, out: Out = stdout): Promise<void> {
  const [kindName, name] = o.ref.split("/");
  const info = kindName ? resolveKindName(kindName) : undefined;
  if (!info || !name) throw new CliError("expected KIND/NAME, e.g. virtualservice/reviews");
  const ns = info.namespaced ? (o.namespace ?? "default") : "";
  await withTarget(o, async (t) => {
    const versions = await t.stream.history(info.key, ns, name);
    if (!versions.length) throw new CliError(`no history for ${ref(info, name)}${ns ? ` in ${ns}` : ""}`);
    if (o.output === "yaml") {
      out(
        stringify(
          versions.map((v) => ({
            seq: v.seq,
            time: v.time,
            op: v.op,
            actor: v.actor,
            origin: v.origin,
            ...(v.data ? { object: toManifest(v.data as ConfigObject) } : {}),
          })),
        ).trimEnd(),
      );
      return;
    }
    let prev: ConfigObject | undefined;
    const rows = versions.map((v) => {
      const cur = v.data as ConfigObject | undefined;
      const change =
        v.op === "delete"
          ? "deleted"
          : prev
            ? `configured: ${changedPaths(toManifest(prev), toManifest(cur as ConfigObject)).join(", ") || "metadata"}`
            : "created";
      prev = cur;
      return [String(v.seq), v.time, v.actor ?? "", v.origin ?? "", change];
    });
    table(["REVISION", "TIME", "WHO", "ORIGIN", "CHANGE"], rows, out);
  });
}

/** The top-most paths whose values differ between two objects (spec.http[0].route, metadata.labels). */
export function changedPaths(a: unknown, b: unknown, path = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const objA = a !== null && typeof a === "object";
  const objB = b !== null && typeof b === "object";
  if (!objA || !objB || Array.isArray(a) !== Array.isArray(b)) return [path || "(root)"];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  const out: string[] = [];
  for (const k of keys) {
    const p = Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    out.push(...changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], p));
  }
  return out.length > 4 ? [...out.slice(0, 4), `+${out.length - 4} more`] : out;
}

/** `isthmus config watch --dir DIR`: the config directory as a long-running source (compose). */
export async function watchConfigDir(o: TargetOptions & { dir: string }, out: Out = stdout): Promise<void> {
  const t = await openTarget(o);
  const { ConfigDirSource } = await import("./dir-source.js");
  const source = new ConfigDirSource({ dir: o.dir, store: t.stream, actor: t.actor, say: out });
  await source.start();
  out(`watching ${o.dir} for mesh ${o.mesh} configuration (Ctrl-C stops)`);
  await new Promise<void>((r) => {
    process.once("SIGINT", r);
    process.once("SIGTERM", r);
  });
  await source.stop();
  await t.close();
}
