import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManifestSource, parseManifest } from "@isthmus/discovery";
import { type Figures, report, round } from "./report.js";

/** About `bytes` of YAML manifests: Services, each with an EndpointSlice of 30 endpoints. */
function manifests(bytes: number): { text: string; services: number } {
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const svc = `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${i}\n  namespace: default\nspec:\n  ports:\n  - name: grpc\n    port: 5000\n`;
    const slice = `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-${i}\n  namespace: default\n  labels: {kubernetes.io/service-name: svc-${i}}\naddressType: IPv4\nports: [{name: grpc, port: 5000}]\nendpoints:\n${Array.from(
      { length: 30 },
      (_, k) => k + 1,
    )
      .map((k) => `- addresses: ["10.${(i >> 8) & 255}.${i & 255}.${k}"]\n`)
      .join("")}`;
    parts.push(svc, slice);
    size += svc.length + slice.length + 8;
    i++;
  }
  return { text: parts.join("---\n"), services: i };
}

/** The longest gap between ticks of a 5 ms timer, from now until stop(): how long the event loop was blocked. */
function loopDelay(): { stop(): Promise<number> } {
  let last = performance.now();
  let worst = 0;
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 10));
      clearInterval(t);
      return Math.max(worst, performance.now() - last - 5);
    },
  };
}

/**
 * A manifest directory's cost to the process that reads it: a ~4 MiB file parsed in place
 * (what blocking the event loop would cost) against the manifest source's reload of the same
 * file (read asynchronously, parsed on its worker thread), with the event loop's worst
 * delay during each.
 */
export async function benchManifests(): Promise<void> {
  const figures: Figures = {};
  // Under the source's 4 MiB limit per file.
  const { text, services } = manifests(3.5 * 1024 * 1024);
  figures.file_bytes = text.length;
  figures.services = services;

  const inPlace = loopDelay();
  let t0 = performance.now();
  const r = parseManifest(text, "bench.yaml", { maxNodes: 200_000, maxObjects: 100_000 });
  figures.parse_in_place_ms = round(performance.now() - t0, 0);
  figures.parse_in_place_max_loop_delay_ms = round(await inPlace.stop(), 0);
  figures.objects = r.ok ? r.objects.length : 0;

  const dir = mkdtempSync(join(tmpdir(), "bench-manifests-"));
  try {
    writeFileSync(join(dir, "big.yaml"), text);
    let published = 0;
    const skipped: string[] = [];
    const src = new ManifestSource(
      dir,
      { id: "bench", mode: "managed", network: "", region: "", zone: "" },
      {
        dirty: (keys) => {
          published = [...keys].length;
        },
        status: () => {},
        skipped: (items) => {
          for (const x of items) skipped.push(`${x.object}: ${x.reason}`);
        },
      },
    );
    // Warm the worker thread first: its start-up is not the file's cost.
    await src.start();
    writeFileSync(join(dir, "big.yaml"), `${text}\n`);
    const worker = loopDelay();
    t0 = performance.now();
    await src.reload();
    figures.reload_ms = round(performance.now() - t0, 0);
    figures.reload_max_loop_delay_ms = round(await worker.stop(), 0);
    figures.reload_services = published;
    if (skipped.length) figures.skipped = skipped.slice(0, 3).join("; ");
    await src.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report("manifests", figures, {
    parse_in_place_max_loop_delay_ms: "the event loop blocked for this long if parsed in place",
    reload_max_loop_delay_ms: "worst event-loop delay while the source re-reads the file",
  });
}
