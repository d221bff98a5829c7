// Human-readable figures for the table: times in ms or s, bytes in B/KiB/MiB.
import type { Figure } from './figures.ts';
import type { Target } from './metrics.ts';

export function fmtBytes(b: number): string {
  if (b < 1024) return `${Math.round(b)} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(b < 10 * 1024 ** 2 ? 2 : 1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtMs(v: number): string {
  if (v < 10) return `${v.toFixed(1)} ms`;
  if (Math.round(v) < 1000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(2)} s`;
}

export function fmtFigure(f: Figure | undefined): string {
  if (!f || f.value === null) return '—';
  const v = f.value;
  switch (f.unit) {
    case 'ms':
      return fmtMs(v);
    case 'B':
      return fmtBytes(v);
    case 'GB/s':
      return `${v.toFixed(2)} GB/s`;
    case '%':
      return `${Math.round(v)}%`;
    case 'bool':
      return v ? 'yes' : 'no';
    case 'count':
      return String(v);
  }
}

export function fmtTarget(t: Target | undefined, unit: Figure['unit'] | undefined): string {
  if (!t) return '';
  const v = fmtFigure({ value: t.value, unit: unit ?? 'count' });
  return `${t.op === '==' ? '' : t.op === '<=' ? '≤ ' : '≥ '}${v}`;
}

/** rival / ours, for figures where less is better ("x12" = the rival needs 12 times more). */
export function fmtRatio(ours: Figure | undefined, rival: Figure | undefined): string {
  if (!ours || !rival || ours.value === null || rival.value === null) return '';
  if (ours.unit === 'bool' || ours.unit === '%' || ours.unit === 'GB/s') return '';
  if (ours.value <= 0) return rival.value > 0 ? '∞' : '';
  const r = rival.value / ours.value;
  return r >= 10 ? `×${Math.round(r)}` : `×${r.toFixed(r >= 1 ? 1 : 2)}`;
}
