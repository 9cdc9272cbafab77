import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type Figures = Record<string, number | string>;

/** Print the figures as a table and write bench/results/<name>.json (a flat object). */
export function report(name: string, figures: Figures, notes: Record<string, string> = {}): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  const lines = [`\n${name}`, `${"figure".padEnd(width)}  value`, `${"-".repeat(width)}  ${"-".repeat(12)}`];
  for (const [k, v] of Object.entries(figures)) lines.push(`${k.padEnd(width)}  ${typeof v === "number" ? fmt(v) : v}${notes[k] ? `   (${notes[k]})` : ""}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  const dir = fileURLToPath(new URL("../results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${name}.json`, `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`\nwrote bench/results/${name}.json\n`);
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(4);
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
