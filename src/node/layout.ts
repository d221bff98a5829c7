// Where the live versions of one synced path belong on disk: the winner under the path's
// own name, each conflicting loser under its conflict copy name. Derived only from the
// replicated state (and commit knowledge), so every replica lays a path out the same way.
import { conflictPaths } from '../model/conflict-name.ts';
import { resolve } from '../model/resolve.ts';
import { isTombstone } from '../model/version.ts';
import type { Head, Version } from '../proto/types.ts';

export type CommitOracle = (path: string, v: Version) => boolean;

export interface Placement {
  /** Where on disk. */
  diskPath: string;
  /** The synced path it belongs to. */
  headPath: string;
  /** The version shown there; null = a directory that exists only because of its children. */
  version: Version | null;
}

export interface Layout {
  headPath: string;
  /** What belongs at headPath itself (null = nothing). */
  main: Placement | null;
  /** Conflict copies beside it. */
  copies: Placement[];
}

export interface HeadReader {
  getHead(path: string): Head | null;
  liveChildren(dir: string): number;
}

export function layoutOf(reader: HeadReader, headPath: string, isCommitted: CommitOracle): Layout {
  const versions = reader.getHead(headPath)?.versions ?? [];
  const children = reader.liveChildren(headPath) > 0;
  const r = resolve(versions, { hasLiveChildren: children, isCommitted: (v) => isCommitted(headPath, v) });
  const main: Placement | null =
    r.winner || r.directory ? { diskPath: headPath, headPath, version: r.winner } : null;
  const occupied = (p: string) => {
    const h = reader.getHead(p);
    return !!h && h.versions.some((v) => !isTombstone(v));
  };
  const names = conflictPaths(headPath, r.losers, occupied);
  const copies = r.losers.map((v, i) => ({ diskPath: names[i]!, headPath, version: v }));
  return { headPath, main, copies };
}
