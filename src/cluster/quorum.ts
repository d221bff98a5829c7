// Strict-majority bookkeeping, as plain functions over what members report about
// themselves (their log clock and the versions they refused to accept as a path's head).
//  - An operation is committed once floor(N/2)+1 members hold it in their logs.
//  - A version of a path is committed once floor(N/2)+1 members hold it and accepted it.
//    Each member accepts at most one of several concurrent versions (the first it sees,
//    then only descendants of it), and any two majorities share a member, so two
//    concurrent versions of one path can never both be committed.
import type { Clock, Dot } from '../proto/types.ts';

export interface MemberView {
  nodeId: string;
  logClock: Clock;
  /** Keys of refused versions: refusalKey(dot, path). */
  refused: ReadonlySet<string>;
}

export function quorumSize(clusterSize: number): number {
  return Math.floor(Math.max(1, clusterSize) / 2) + 1;
}

export function refusalKey(dot: Dot, path: string): string {
  return `${dot.origin}\u0000${dot.seq}\u0000${path}`;
}

export function holds(m: MemberView, dot: Dot): boolean {
  return (m.logClock.vv[dot.origin] ?? 0) >= dot.seq;
}

/** Members that hold this version and accepted it as the path's head. */
export function acceptors(members: Iterable<MemberView>, dot: Dot, path: string): number {
  let n = 0;
  const key = refusalKey(dot, path);
  for (const m of members) if (holds(m, dot) && !m.refused.has(key)) n++;
  return n;
}

export function versionCommitted(
  members: Iterable<MemberView>,
  clusterSize: number,
  dot: Dot,
  path: string,
): boolean {
  return acceptors(members, dot, path) >= quorumSize(clusterSize);
}

/**
 * Per origin, the highest sequence number held by at least a quorum of members: every
 * operation at or below it is committed.
 */
export function committedPrefix(members: readonly MemberView[], clusterSize: number): Record<string, number> {
  const q = quorumSize(clusterSize);
  const origins = new Set<string>();
  for (const m of members) for (const o of Object.keys(m.logClock.vv)) origins.add(o);
  const out: Record<string, number> = {};
  for (const o of origins) {
    const held = members.map((m) => m.logClock.vv[o] ?? 0).sort((a, b) => b - a);
    const v = held[q - 1] ?? 0;
    if (v > 0) out[o] = v;
  }
  return out;
}

/** Operations in `log` that are not yet committed. */
export function uncommittedCount(log: Clock, prefix: Record<string, number>): number {
  let n = 0;
  for (const [o, seq] of Object.entries(log.vv)) n += Math.max(0, seq - (prefix[o] ?? 0));
  return n;
}

/** The size to count majorities against: configured, or larger if more members showed up. */
export function effectiveSize(configured: number, known: number): number {
  return Math.max(configured, known);
}
