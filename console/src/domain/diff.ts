/** A line of a diff between two texts. */
export interface DiffLine {
  op: " " | "+" | "-";
  text: string;
}

/**
 * Line diff by longest common subsequence: enough for config resources of a few hundred
 * lines. Bigger inputs fall back to "all removed, all added" rather than a quadratic table.
 */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before === "" ? [] : before.split("\n");
  const b = after === "" ? [] : after.split("\n");
  if (a.length * b.length > 4_000_000) return [...a.map((text) => ({ op: "-" as const, text })), ...b.map((text) => ({ op: "+" as const, text }))];
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as number[];
    const next = lcs[i + 1] as number[];
    for (let j = m - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: " ", text: a[i] as string });
      i++;
      j++;
    } else if ((lcs[i + 1]?.[j] as number) >= (lcs[i]?.[j + 1] as number)) out.push({ op: "-", text: a[i++] as string });
    else out.push({ op: "+", text: b[j++] as string });
  }
  while (i < n) out.push({ op: "-", text: a[i++] as string });
  while (j < m) out.push({ op: "+", text: b[j++] as string });
  return out;
}
