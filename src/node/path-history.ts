// What a path's history was when the disk last showed it, read from its head (in the
// recording transaction) and the log: the clock a new version there descends from, and
// the live versions it must not cover. The recorder's one source of causality.
import { joinAll, sameDot } from '../clock/vector.ts';
import type { Store } from '../log/store.ts';
import type { Txn } from '../log/txn.ts';
import { isTombstone } from '../model/version.ts';
import type { Clock, Dot, FileEntry, Version } from '../proto/types.ts';
import { versionFromOp } from './ingest.ts';

export class PathHistory {
  constructor(private readonly store: Pick<Store, 'getOp' | 'origin'>) {}

  /** A version of a path by dot: live in its head, or recovered from the log. */
  versionAt(txn: Txn, headPath: string, dot: Dot): Version | null {
    const live = txn.getHead(headPath)?.versions.find((v) => sameDot(v.dot, dot));
    if (live) return live;
    const logged = this.store.getOp(dot);
    return logged ? versionFromOp(logged.op, headPath) : null;
  }

  /** What a path with this index entry showed: its version's history, or its tombstones'. */
  shownClock(txn: Txn, headPath: string, entry: FileEntry | null): Clock {
    if (entry?.version && entry.headPath === headPath) {
      const v = this.versionAt(txn, headPath, entry.version);
      if (v) return v.clock;
    }
    return this.tombstoneClock(txn, headPath);
  }

  tombstoneClock(txn: Txn, headPath: string): Clock {
    const versions = txn.getHead(headPath)?.versions ?? [];
    return joinAll(versions.filter(isTombstone).map((v) => v.clock));
  }

  /** Live versions of a path other than the one the disk shows there (by its index entry). */
  unseenAt(txn: Txn, headPath: string, entry: FileEntry | null): Dot[] {
    const shown = entry?.headPath === headPath ? entry.version : null;
    const versions = txn.getHead(headPath)?.versions ?? [];
    return versions.filter((v) => !isTombstone(v) && !sameDot(v.dot, shown)).map((v) => v.dot);
  }

  /** Our own live versions of a path other than the one shown: the new version must not cover them. */
  ownSiblings(txn: Txn, headPath: string, shown: Dot | null): Dot[] {
    const versions = txn.getHead(headPath)?.versions ?? [];
    return versions
      .filter((v) => v.dot.origin === this.store.origin && !sameDot(v.dot, shown) && !isTombstone(v))
      .map((v) => v.dot);
  }
}
