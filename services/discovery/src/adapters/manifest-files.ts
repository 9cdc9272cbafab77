import { constants } from "node:fs";
import { open, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Skipped } from "../domain/translate.js";

export interface FileLimits {
  /** Bytes per file: a larger file is not read (and its last good version kept). */
  maxFileBytes: number;
  /** Files in the directory tree. */
  maxFiles: number;
  /** Directory depth. */
  maxDepth: number;
}

export const DEFAULT_FILE_LIMITS: FileLimits = { maxFileBytes: 4 * 1024 * 1024, maxFiles: 10_000, maxDepth: 16 };

export interface ManifestFile {
  path: string;
  /** Changes whenever the file may have: size and modification time. */
  signature: string;
  size: number;
}

const MANIFEST = /\.(ya?ml|json)$/;

/**
 * The manifest files under a directory, without ever blocking: symlinks are followed once
 * (a loop or a dangling link is skipped with the reason), only regular files count (a FIFO
 * or socket named `*.yaml` is skipped: opening one would wait forever), and the tree is
 * bounded in files and depth. Throws only when the directory itself cannot be read.
 */
export async function listManifestFiles(dir: string, limits: FileLimits = DEFAULT_FILE_LIMITS): Promise<{ files: ManifestFile[]; skipped: Skipped[] }> {
  const files: ManifestFile[] = [];
  const skipped: Skipped[] = [];
  const seenDirs = new Set<string>();
  const walk = async (d: string, depth: number, root: boolean) => {
    const real = await realpath(d);
    if (seenDirs.has(real)) {
      skipped.push({ object: d, reason: "directory already read (a symlink loop)" });
      return;
    }
    seenDirs.add(real);
    let entries: Array<{ name: string }>;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if (root) throw err;
      skipped.push({ object: d, reason: `cannot read directory: ${(err as Error).message}` });
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(p); // follows symlinks
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (MANIFEST.test(e.name) || code === "ELOOP")
          skipped.push({ object: p, reason: code === "ENOENT" ? "dangling symlink" : code === "ELOOP" ? "symlink loop" : (err as Error).message });
        continue;
      }
      if (st.isDirectory()) {
        if (depth >= limits.maxDepth) skipped.push({ object: p, reason: `deeper than ${limits.maxDepth} directories` });
        else await walk(p, depth + 1, false);
        continue;
      }
      if (!MANIFEST.test(e.name)) continue;
      if (!st.isFile()) {
        skipped.push({ object: p, reason: "not a regular file (a FIFO, socket or device is never read)" });
        continue;
      }
      if (files.length >= limits.maxFiles) {
        skipped.push({ object: p, reason: `more than ${limits.maxFiles} manifest files` });
        continue;
      }
      files.push({ path: p, signature: `${st.size}:${st.mtimeMs}:${st.ino}`, size: st.size });
    }
  };
  await walk(dir, 0, true);
  return { files, skipped };
}

/**
 * One file's text, read without blocking the event loop: opened non-blocking and checked to
 * be a regular file on the handle itself (it may have been swapped for a FIFO since it was
 * listed), at most `maxBytes`.
 */
export async function readManifestFile(path: string, maxBytes: number): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) return { ok: false, reason: "not a regular file (a FIFO, socket or device is never read)" };
    if (st.size > maxBytes) return { ok: false, reason: `${st.size} bytes, more than the limit of ${maxBytes}` };
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > maxBytes) return { ok: false, reason: `more than the limit of ${maxBytes} bytes (growing while read)` };
      if (n === buf.length) break;
    }
    return { ok: true, text: buf.subarray(0, n).toString("utf8") };
  } catch (err) {
    return { ok: false, reason: `cannot read: ${(err as Error).message}` };
  } finally {
    await fh?.close().catch(() => {});
  }
}
