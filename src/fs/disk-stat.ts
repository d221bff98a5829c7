// node:fs Stats → our Stat (permission bits only, lstat semantics).
import { lstatSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { isMissing } from './disk-errors.ts';
import type { EntryKind, Stat } from './types.ts';

export function kindOf(st: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'link';
  return 'other';
}

export function toStat(st: Stats): Stat {
  return {
    kind: kindOf(st),
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    mode: st.mode & 0o7777,
  };
}

/** lstat an OS path; null if it does not exist. Errors are left for the caller to map. */
export async function lstatOrNull(osPath: string): Promise<Stat | null> {
  try {
    return toStat(await lstat(osPath));
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/**
 * Milliseconds → seconds for utimes. The kernel call keeps microseconds and truncates, so
 * 123 ms would come back as 122.999; half a microsecond more makes it round instead.
 */
export function utimeSeconds(mtimeMs: number): number {
  return (mtimeMs + 0.0005) / 1000;
}

/** The same, synchronously (a metadata syscall: see fd-io.ts). */
export function lstatOrNullSync(osPath: string): Stat | null {
  try {
    const st = lstatSync(osPath, { throwIfNoEntry: false });
    return st === undefined ? null : toStat(st);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
