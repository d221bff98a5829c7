// Our figures against their targets: the rows of the targets list and which scenarios
// missed at least one (those get profiled).
import { fmtFigure, fmtTarget } from './format.ts';
import { judge, SECTIONS } from './metrics.ts';
import type { TargetRow } from './results.ts';
import type { Sizes } from './sizes.ts';
import type { ResultGrid } from './table.ts';

export function targetRows(
  grid: ResultGrid,
  ours: string,
  sizes: Sizes,
): (TargetRow & { section: string })[] {
  const rows: (TargetRow & { section: string })[] = [];
  for (const s of SECTIONS) {
    const r = grid[s.id]?.[ours];
    if (!r) continue;
    for (const m of s.metrics) {
      if (!m.target) continue;
      const fig = r.figures[m.key];
      rows.push({
        section: s.id,
        key: m.key,
        label: `${s.title}: ${m.label}`,
        target: fmtTarget(m.target, fig?.unit),
        value: fig?.value ?? null,
        unit: fig?.unit ?? '',
        verdict: r.status === 'ok' ? (judge(m.target, fig?.value, sizes) ?? 'n/a') : 'MISSED',
      });
    }
  }
  return rows;
}

export function renderTargets(rows: TargetRow[]): string {
  const w = Math.max(...rows.map((r) => r.label.length));
  return rows
    .map((r) => {
      const v = r.value === null ? 'no figure' : fmtFigure({ value: r.value, unit: r.unit as 'ms' });
      return `  ${r.verdict.padEnd(6)}  ${r.label.padEnd(w)}  ${v} (target ${r.target})`;
    })
    .join('\n');
}

/** Scenarios where at least one of our figures missed its target. */
export function missedScenarios(rows: (TargetRow & { section: string })[]): string[] {
  return [...new Set(rows.filter((r) => r.verdict === 'MISSED').map((r) => r.section))];
}
