// Pure rules the detector applies to what lstat shows: whether a file is most likely still
// being written (and how much longer to wait), whether an entry's content is known without
// reading it, and whether a path still shows what was observed when it was hashed.
import { baseName } from '../fs/paths.ts';
import type { Stat } from '../fs/types.ts';
import type { FileEntry } from '../proto/types.ts';
import { type Observation, statMatches } from './observe.ts';

/** An empty (or just truncated) file waits this long without change before it is recorded. */
export const EMPTY_QUIET_MS = 200;
/** So does a new file of this size or more, for this long. */
export const LARGE_NEW_BYTES = 1024 * 1024;
export const LARGE_QUIET_MS = 100;
/**
 * A new hidden or backup-named file (`.doc.swp-4`, `file~`): most likely an editor's temp
 * file about to be renamed over the real one. Measured from its mtime, whose clock is
 * coarser than ours, so the wait can only come out shorter. 10 ms let the temp name through
 * once in ~7 full test runs on the loaded 2-core CI machine (the writer was descheduled
 * between write and rename); a new dotfile showing up 100 ms later costs little.
 */
export const SCRATCH_QUIET_MS = 100;
/**
 * After a moved folder's RENAME is sent, its contents are looked at again this much later
 * (what changed in the moment of the move). Not at once: peers are applying the RENAME just
 * then, and on two cores the look at 1,000 entries slowed the peer's part (the bench's
 * rename, 8 rounds interleaved with the build before: middle medians 283 / 287 ms against
 * 308 / 327 ms).
 */
export const MOVED_RECHECK_MS = 150;

export function looksScratch(path: string): boolean {
  const name = baseName(path);
  return name.startsWith('.') || name.endsWith('~');
}

/**
 * A file that most likely is still being written gets more time than the usual settle:
 * one just emptied or created empty (a writer truncates, then writes), a large new file
 * (copies and editors' temp files write for a while, with pauses), and a new file named
 * like a scratch file (an editor saving through a temp name it is about to rename over the
 * real one, within a few milliseconds). Returns how many more milliseconds to wait (0 =
 * look now); `entry` is what the index holds at the path.
 */
export function unstableFor(path: string, stat: Stat, entry: FileEntry | null, nowMs: number): number {
  if (stat.kind !== 'file') return 0;
  const age = nowMs - stat.mtimeMs;
  const need =
    stat.size === 0 && (entry === null || entry.size > 0)
      ? EMPTY_QUIET_MS
      : !entry && stat.size >= LARGE_NEW_BYTES
        ? LARGE_QUIET_MS
        : !entry && looksScratch(path)
          ? SCRATCH_QUIET_MS
          : 0;
  return need > 0 && age < need ? Math.min(need, need - age) : 0;
}

/**
 * An entry inside a moved folder keeps its inode and every time stamp: if the index has that
 * inode elsewhere with exactly this stat, its content is known without reading it (the same
 * trust as an unchanged path; a rename of 1,000 files need not hash them all).
 */
export function carriedAlong(p: string, stat: Stat, was: FileEntry | null): Observation | null {
  if (stat.kind === 'dir' || !was || !statMatches(stat, was)) return null;
  return { path: p, stat, content: stat.kind === 'file' ? was.content : null, link: was.link };
}

/** The path still shows what was observed (and hashed): same entry, size, times, mode. */
export function sameObservedStat(now: NonNullable<Observation['stat']>, obs: Observation): boolean {
  const s = obs.stat!;
  return (
    now.kind === s.kind &&
    now.ino === s.ino &&
    now.size === s.size &&
    now.mtimeMs === s.mtimeMs &&
    (now.kind === 'dir' || now.ctimeMs === s.ctimeMs) &&
    now.mode === s.mode
  );
}
