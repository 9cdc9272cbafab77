import { parentPort } from "node:worker_threads";
import { type ManifestLimits, parseManifest } from "../domain/manifest-docs.js";

// The manifest parser's thread: YAML of a few MiB takes seconds to parse, which must not
// stop the rest of the process (xDS, the CA, health) from being served.
parentPort?.on("message", (m: { id: number; text: string; file: string; limits: ManifestLimits }) => {
  parentPort?.postMessage({ id: m.id, result: parseManifest(m.text, m.file, m.limits) });
});
parentPort?.postMessage({ ready: true });
