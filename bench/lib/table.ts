// The aligned table on stdout: one row per figure, our value, its target and verdict, then
// each rival's value and the ratio rival / ours.
import type { Figure, SystemResult } from './figures.ts';
import { fmtFigure, fmtRatio, fmtTarget } from './format.ts';
import { judge, SECTIONS } from './metrics.ts';
import type { Sizes } from './sizes.ts';

export interface Column {
  id: string;
  label: string;
}

/** scenario id -> system id -> result */
export type ResultGrid = Record<string, Record<string, SystemResult>>;

function cell(r: SystemResult | undefined, key: string): { text: string; fig?: Figure } {
  if (!r) return { text: '' };
  if (r.status === 'missing') return { text: 'missing' };
  if (r.status === 'failed') return { text: 'failed' };
  if (r.status === 'n/a') return { text: 'n/a' };
  const fig = r.figures[key];
  return fig ? { text: fmtFigure(fig), fig } : { text: 'n/a' };
}

export function renderTable(grid: ResultGrid, ours: string, rivals: Column[], sizes: Sizes): string {
  const head = ['figure', 'target', 'resonate', '', ...rivals.flatMap((c) => [c.label, 'ratio'])];
  const rows: string[][] = [];
  const sectionRows: number[] = [];
  for (const s of SECTIONS) {
    const results = grid[s.id];
    if (!results) continue;
    sectionRows.push(rows.length);
    rows.push([s.title]);
    for (const m of s.metrics) {
      const o = cell(results[ours], m.key);
      const rs = rivals.map((c) => cell(results[c.id], m.key));
      if (!o.fig && rs.every((r) => !r.fig)) continue;
      const verdict = judge(m.target, o.fig?.value, sizes) ?? '';
      rows.push([
        `  ${m.label}`,
        fmtTarget(m.target, o.fig?.unit),
        o.text,
        verdict,
        ...rs.flatMap((r) => [r.text, fmtRatio(o.fig, r.fig)]),
      ]);
    }
  }
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.filter((_, k) => !sectionRows.includes(k)).map((r) => (r[i] ?? '').length)),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((r, k) => {
    out.push(sectionRows.includes(k) ? r[0]! : line(r));
  });
  return out.join('\n');
}

/** Failures and missing rivals, one line each, under the table. */
export function renderProblems(grid: ResultGrid): string[] {
  const out: string[] = [];
  for (const [scenario, bySystem] of Object.entries(grid)) {
    for (const [system, r] of Object.entries(bySystem)) {
      if (r.status === 'failed') out.push(`${scenario} / ${system}: failed: ${r.reason?.split('\n')[0]}`);
    }
  }
  return out;
}
