// Hybrid logical clock (Kulkarni et al.): timestamps that follow wall time, never go
// backwards (even when the wall clock does, or across restarts, since the last value is
// persisted), and order causally related events. Encoded in one safe integer:
// wall milliseconds * 1024 + a 10-bit logical counter (good until the year 2248).
// When the counter would overflow, the millisecond part advances instead.

export const LOGICAL_BITS = 10;
const SPAN = 2 ** LOGICAL_BITS;
/** Remote timestamps further ahead of our wall clock than this are not adopted. */
export const MAX_DRIFT_MS = 24 * 60 * 60 * 1000;

export function hlcMs(ts: number): number {
  return Math.floor(ts / SPAN);
}
export function hlcLogical(ts: number): number {
  return ts % SPAN;
}
export function makeHlc(ms: number, logical: number): number {
  return ms * SPAN + logical;
}

/** Next timestamp for a local event, given the last one issued and the wall clock. */
export function tick(last: number, wallMs: number): number {
  const wall = makeHlc(Math.max(0, Math.floor(wallMs)), 0);
  return wall > last ? wall : last + 1;
}

/**
 * Next timestamp after receiving `remote`. A remote time implausibly far in the future
 * (a broken or hostile peer) is ignored rather than dragging our clock along.
 */
export function receive(last: number, remote: number, wallMs: number): number {
  const base = tick(last, wallMs);
  if (hlcMs(remote) > wallMs + MAX_DRIFT_MS) return base;
  return remote >= base ? remote + 1 : base;
}

/** UTC "yyyymmdd-hhmmss" of a timestamp, as used in conflict file names. */
export function hlcStamp(ts: number): string {
  const d = new Date(hlcMs(ts));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
