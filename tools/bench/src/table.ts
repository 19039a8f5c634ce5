// The benchmarks' shared output: a plain-text table with aligned columns (numbers right-aligned),
// readable in a terminal and pasteable into Markdown.

export type Cell = string | number | null;

/** Seconds with 3 significant decimals; null prints as a dash. */
export function formatCell(c: Cell): string {
  if (c === null) return '-';
  if (typeof c === 'number') return Number.isInteger(c) ? String(c) : c.toFixed(c >= 100 ? 1 : 3);
  return c;
}

export function formatTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => columns.map((_, i) => formatCell(r[i] ?? null)));
  const width = columns.map((c, i) => Math.max(c.length, ...text.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map((_, i) => rows.every((r) => typeof r[i] !== 'string'));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (numeric[i] ? c.padStart(width[i] ?? 0) : c.padEnd(width[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${width.map((w, i) => (numeric[i] ? `${'-'.repeat(Math.max(1, w - 1))}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(columns), rule, ...text.map(line)].join('\n');
}

/** The median of some timings (the middle one, or the mean of the two middle ones). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
