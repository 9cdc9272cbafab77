import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { type ParsedManifests, parseManifests } from "./parse.js";

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
/** A manifest larger than this is refused: configuration objects are small. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/** The manifest files under a path: the file itself, or a directory's .yaml/.yml/.json files, recursively, sorted. */
export function manifestFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const e of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith(".")) continue;
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...manifestFiles(p));
    else if (e.isFile() && EXTENSIONS.has(extname(e.name))) out.push(p);
  }
  return out;
}

/** Read and parse one manifest file; a file too large or unreadable is one error naming it. */
export function readManifestFile(file: string): ParsedManifests {
  try {
    const st = statSync(file);
    if (!st.isFile()) return { docs: [], errors: [{ origin: file, message: "not a regular file" }] };
    if (st.size > MAX_MANIFEST_BYTES) return { docs: [], errors: [{ origin: file, message: `larger than ${MAX_MANIFEST_BYTES} bytes` }] };
    return parseManifests(readFileSync(file, "utf8"), file);
  } catch (err) {
    return { docs: [], errors: [{ origin: file, message: (err as Error).message }] };
  }
}
