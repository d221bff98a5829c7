// The identity check behind CommitOptions.expect: has the entry at a path stayed the one
// the caller last saw? ctime catches metadata-only changes, ino catches replacements.
import type { Stat } from './types.ts';

export function sameEntry(actual: Stat | null, expected: Stat | null): boolean {
  if (actual === null || expected === null) return actual === expected;
  return (
    actual.kind === expected.kind &&
    actual.size === expected.size &&
    actual.mtimeMs === expected.mtimeMs &&
    actual.ctimeMs === expected.ctimeMs &&
    actual.ino === expected.ino
  );
}

export function describeStat(s: Stat | null): string {
  return s === null ? 'absent' : `${s.kind} size=${s.size} mtime=${s.mtimeMs} ino=${s.ino}`;
}
