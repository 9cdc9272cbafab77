import { LineCounter, parseAllDocuments } from "yaml";

/** One object read from a manifest: where it is (`file:line`) and what it says. */
export interface ManifestDoc {
  origin: string;
  object: Record<string, unknown>;
}

export interface ManifestError {
  origin: string;
  message: string;
}

export interface ParsedManifests {
  docs: ManifestDoc[];
  errors: ManifestError[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Multi-document YAML (or JSON, a subset) read as kubectl reads it: empty and comment-only
 * documents are skipped, `List` kinds (`kind: List`, `VirtualServiceList`, ...) stand for
 * their items, and anything that is not an object is an error naming its line.
 */
export function parseManifests(text: string, source: string): ParsedManifests {
  const out: ParsedManifests = { docs: [], errors: [] };
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const at = (offset: number | undefined) => `${source}:${lines.linePos(offset ?? 0).line}`;
    const start = doc.contents?.range?.[0] ?? doc.range?.[0];
    if (doc.errors.length) {
      for (const e of doc.errors) out.errors.push({ origin: at(e.pos?.[0]), message: e.message.split("\n")[0] ?? e.message });
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    expand(value, at(start), out);
  }
  return out;
}

function expand(value: unknown, origin: string, out: ParsedManifests): void {
  if (!isObject(value)) {
    out.errors.push({ origin, message: `expected an object with apiVersion and kind, got ${Array.isArray(value) ? "a list" : typeof value}` });
    return;
  }
  const kind = value.kind;
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(value.items)) {
    value.items.forEach((item, i) => {
      expand(item, `${origin} items[${i}]`, out);
    });
    return;
  }
  out.docs.push({ origin, object: value });
}
