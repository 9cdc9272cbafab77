import { CORE_SCHEMA, loadAll } from "js-yaml";
import { schemaProblem } from "./manifest-schema.js";
import type { Skipped } from "./translate.js";

/** A Kubernetes-style object read from a manifest, its metadata checked. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<string, unknown>;
  [field: string]: unknown;
}

export interface ManifestLimits {
  /** Nodes (values) in one object, aliases counted each time they are used (YAML "billion laughs" stay bounded). */
  maxNodes: number;
  /** Objects in one file, List items included. */
  maxObjects: number;
}

export const DEFAULT_MANIFEST_LIMITS: ManifestLimits = { maxNodes: 200_000, maxObjects: 10_000 };

export type ParsedManifest = { ok: true; objects: ManifestObject[]; skipped: Skipped[] } | { ok: false; reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Counts values up to a bound, so a huge or alias-multiplied object is refused before anything walks it. */
function exceedsNodes(v: unknown, max: number): boolean {
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length) {
    const x = stack.pop();
    if (++n > max) return true;
    if (Array.isArray(x)) for (const y of x) stack.push(y);
    else if (isRecord(x)) for (const y of Object.values(x)) stack.push(y);
  }
  return false;
}

/** Why this is not an object discovery can use, or undefined. */
function invalidObject(v: unknown): string | undefined {
  if (!isRecord(v)) return `not an object (${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v})`;
  if (typeof v.kind !== "string" || !v.kind) return "no kind";
  if (typeof v.apiVersion !== "string" || !v.apiVersion) return `${v.kind} without apiVersion`;
  const m = v.metadata;
  if (!isRecord(m)) return `${v.kind} without metadata`;
  if (typeof m.name !== "string" || !m.name) return `${v.kind} without metadata.name`;
  if (m.namespace !== undefined && (typeof m.namespace !== "string" || !m.namespace)) return `${v.kind} ${m.name}: metadata.namespace is not a name`;
  if (m.labels !== undefined && m.labels !== null) {
    if (!isRecord(m.labels) || Object.values(m.labels).some((x) => typeof x !== "string"))
      return `${v.kind} ${m.name}: metadata.labels is not a map of strings`;
  }
  return undefined;
}

/** `List` and `<Kind>List` with items, as kubectl reads them (`kubectl get -o yaml` writes them). */
const isList = (v: Record<string, unknown>) => typeof v.kind === "string" && v.kind.endsWith("List") && "items" in v;

/**
 * The objects of one manifest file, read as kubectl reads one: any number of YAML or JSON
 * documents, empty and comment-only documents ignored, `List` kinds flattened. A file that
 * does not parse (a half-written save, an error in any document) is refused as a whole, so
 * the caller keeps its last good version; an object that parses but cannot be used is
 * skipped with the reason and the rest are kept.
 */
export function parseManifest(text: string, file: string, limits: ManifestLimits = DEFAULT_MANIFEST_LIMITS): ParsedManifest {
  let docs: unknown[];
  try {
    // YAML 1.2's core schema, as Kubernetes reads it: a timestamp stays a string.
    docs = loadAll(text, undefined, { schema: CORE_SCHEMA, filename: file });
  } catch (err) {
    return { ok: false, reason: `not valid YAML: ${(err as Error).message.split("\n")[0]}` };
  }
  const values: Array<{ where: string; value: unknown }> = [];
  for (const [i, value] of docs.entries()) {
    const where = `${file} document ${i + 1}`;
    if (value === null || value === undefined) continue; // empty or comments only
    if (isRecord(value) && isList(value)) {
      if (!Array.isArray(value.items)) {
        if (value.items !== null) return { ok: false, reason: `${where}: ${value.kind}.items is not a list` };
        continue;
      }
      for (const [j, item] of value.items.entries()) values.push({ where: `${where} item ${j + 1}`, value: item });
    } else values.push({ where, value });
  }
  if (values.length > limits.maxObjects) return { ok: false, reason: `${values.length} objects (more than ${limits.maxObjects})` };
  const objects: ManifestObject[] = [];
  const skipped: Skipped[] = [];
  for (const { where, value } of values) {
    if (exceedsNodes(value, limits.maxNodes)) {
      skipped.push({ object: where, reason: `more than ${limits.maxNodes} values` });
      continue;
    }
    const why = invalidObject(value);
    if (why) {
      skipped.push({ object: where, reason: why });
      continue;
    }
    const obj = value as ManifestObject;
    const problem = schemaProblem(obj);
    if (problem) skipped.push({ object: `${where} (${obj.kind} ${obj.metadata.name})`, reason: problem });
    else objects.push(obj);
  }
  return { ok: true, objects, skipped };
}
