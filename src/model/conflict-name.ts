// Names of conflict copies: NAME.conflict-<node>-<UTC yyyymmdd-hhmmss>.EXT beside the
// original, derived only from the losing version, so every replica picks the same name.
import { hlcStamp } from '../clock/hlc.ts';
import type { Version } from '../proto/types.ts';
import { nodeOf } from './version.ts';

export const CONFLICT_MARK = '.conflict-';

/** Longest file name most filesystems accept, in bytes. */
const NAME_MAX = 255;

/** Cut a string to at most `max` UTF-8 bytes without splitting a character. */
function fitBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

export function conflictName(path: string, loser: Version, attempt = 0): string {
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '' : path.slice(0, slash + 1);
  const baseName = path.slice(slash + 1);
  const dotAt = baseName.lastIndexOf('.');
  const hasExt = dotAt > 0;
  const stem = hasExt ? baseName.slice(0, dotAt) : baseName;
  const tag = `${nodeOf(loser.dot.origin)}-${hlcStamp(loser.hlc)}${attempt > 0 ? `-${attempt + 1}` : ''}`;
  // A long name is shortened (extension first kept, then the stem) to stay a valid name.
  const mark = `${CONFLICT_MARK}${tag}`;
  const ext = fitBytes(hasExt ? baseName.slice(dotAt) : '', 32);
  const room = Math.max(1, NAME_MAX - Buffer.byteLength(mark) - Buffer.byteLength(ext));
  return `${dir}${fitBytes(stem, room)}${mark}${ext}`;
}

/**
 * Conflict copy paths for losers in order; a name already taken (by another loser or by a
 * path the caller reports as occupied) gets a -2, -3, ... suffix.
 */
export function conflictPaths(
  path: string,
  losers: readonly Version[],
  occupied: (p: string) => boolean,
): string[] {
  const taken = new Set<string>();
  return losers.map((v) => {
    for (let attempt = 0; ; attempt++) {
      const name = conflictName(path, v, attempt);
      if (!taken.has(name) && !occupied(name)) {
        taken.add(name);
        return name;
      }
    }
  });
}

// <stem>.conflict-<node>-<yyyymmdd>-<hhmmss>[-n]<ext>
const CONFLICT_RE = /^(.*)\.conflict-([A-Za-z0-9][A-Za-z0-9_.-]*?)-(\d{8})-(\d{6})(?:-(\d+))?(\.[^./]*)?$/;

/** The synced path a conflict copy name belongs to, or null if it is not one. */
export function conflictBase(path: string): string | null {
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '' : path.slice(0, slash + 1);
  const m = CONFLICT_RE.exec(path.slice(slash + 1));
  if (!m || m[1] === '') return null;
  return `${dir}${m[1]}${m[6] ?? ''}`;
}
