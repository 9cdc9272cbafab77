import { readFileSync } from "node:fs";
import { type ManifestDoc, type ManifestError, manifestFiles, parseManifests, readManifestFile } from "@isthmus/config";

/** Every document of `-f FILE|DIR|-` (repeatable), as kubectl reads them: files, directories recursively, stdin. */
export function readInputs(paths: readonly string[]): { docs: ManifestDoc[]; errors: ManifestError[] } {
  const docs: ManifestDoc[] = [];
  const errors: ManifestError[] = [];
  for (const p of paths) {
    if (p === "-") {
      const r = parseManifests(readFileSync(0, "utf8"), "<stdin>");
      docs.push(...r.docs);
      errors.push(...r.errors);
      continue;
    }
    let files: string[];
    try {
      files = manifestFiles(p);
    } catch (err) {
      errors.push({ origin: p, message: (err as Error).message });
      continue;
    }
    for (const f of files) {
      const r = readManifestFile(f);
      docs.push(...r.docs);
      errors.push(...r.errors);
    }
  }
  return { docs, errors };
}
