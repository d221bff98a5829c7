// What a scenario measures: named figures with units, per system, plus how the run went.

export type Unit = 'ms' | 'B' | 'GB/s' | '%' | 'bool' | 'count';

export interface Figure {
  value: number | null;
  unit: Unit;
  /** How the figure was obtained, when that is not obvious (sample count, a caveat). */
  note?: string;
}

export type Figures = Record<string, Figure>;

export type Status = 'ok' | 'failed' | 'missing' | 'n/a';

export interface SystemResult {
  status: Status;
  /** Why it failed, is missing or does not apply. */
  reason?: string;
  figures: Figures;
  /** Extra detail kept in the JSON only (per-sample latencies, byte splits). */
  detail?: Record<string, unknown>;
}

export const ms = (value: number | null, note?: string): Figure => ({
  value,
  unit: 'ms',
  ...(note ? { note } : {}),
});
export const bytes = (value: number | null): Figure => ({ value, unit: 'B' });
export const flag = (value: boolean | null): Figure => ({
  value: value === null ? null : value ? 1 : 0,
  unit: 'bool',
});
