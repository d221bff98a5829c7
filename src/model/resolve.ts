// Which live version of a path is shown under its real name, and which are kept beside it
// as conflict copies. Pure and deterministic: every replica with the same versions and the
// same commit knowledge picks the same winner.
//   1. data beats deletion: a tombstone never wins over a file, directory or link;
//   2. a path with live descendants is a directory;
//   3. a committed version (accepted by a majority) beats an uncommitted one;
//   4. then the later hybrid timestamp, then the greater origin, then the greater seq.
// Losers with the same data as the winner are not conflicts; an empty directory that
// loses holds no data and is not kept.
import { Kind, type Version } from '../proto/types.ts';
import { isDirectory, isTombstone, sameData } from './version.ts';

export interface ResolveContext {
  hasLiveChildren: boolean;
  isCommitted: (v: Version) => boolean;
}

export interface Resolution {
  /** The version shown at the path, or null (absent, or an implicit directory). */
  winner: Version | null;
  /** The path must exist as a directory even if no directory version is live. */
  directory: boolean;
  /** Versions to keep as conflict copies, best first. */
  losers: Version[];
}

export function better(a: Version, b: Version, isCommitted: (v: Version) => boolean): boolean {
  const ca = isCommitted(a);
  const cb = isCommitted(b);
  if (ca !== cb) return ca;
  if (a.hlc !== b.hlc) return a.hlc > b.hlc;
  if (a.dot.origin !== b.dot.origin) return a.dot.origin > b.dot.origin;
  return a.dot.seq > b.dot.seq;
}

export function rank(versions: readonly Version[], isCommitted: (v: Version) => boolean): Version[] {
  return [...versions].sort((a, b) => (better(a, b, isCommitted) ? -1 : better(b, a, isCommitted) ? 1 : 0));
}

export function resolve(versions: readonly Version[], ctx: ResolveContext): Resolution {
  const data = rank(
    versions.filter((v) => !isTombstone(v)),
    ctx.isCommitted,
  );
  let winner: Version | null;
  if (ctx.hasLiveChildren) winner = data.find(isDirectory) ?? null;
  else winner = data[0] ?? null;
  const directory = ctx.hasLiveChildren || (winner !== null && winner.kind === Kind.Mkdir);
  const losers: Version[] = [];
  for (const v of data) {
    if (v === winner || isDirectory(v)) continue;
    if (winner && sameData(v, winner)) continue;
    if (losers.some((l) => sameData(l, v))) continue;
    losers.push(v);
  }
  return { winner, directory, losers };
}
