// DiskFs's fast paths (Linux, /proc/self/fd pinning): an lstat, or the OS path a file is
// opened by, through a cached, re-verified folder handle (disk-pins.ts) instead of a fresh
// pin. While one of DiskFs's own renames or rmdirs is under way, every use is checked.
import type { Confiner } from './disk-confine.ts';
import { PinCache } from './disk-pins.ts';
import { toStat } from './disk-stat.ts';
import { baseName, parentOf } from './paths.ts';
import type { Stat } from './types.ts';

export class PinnedLookups {
  private pins: PinCache | null = null;
  /** Folder moves and removals of ours under way (see disk-pins.ts). */
  private folderChanges = 0;

  constructor(private readonly confiner: Confiner) {}

  private pinCache(realRoot: string): PinCache {
    this.pins ??= new PinCache(realRoot, () => this.folderChanges === 0);
    return this.pins;
  }

  /** Runs a rename or rmdir, which may move or remove a folder that a cached handle names. */
  async changingFolders<T>(fn: () => Promise<T>): Promise<T> {
    this.folderChanges++;
    this.pins?.forgetVerified();
    try {
      return await fn();
    } finally {
      this.folderChanges--;
      this.pins?.forgetVerified();
    }
  }

  /** Fast path (Linux): lstat through a cached, re-verified folder handle. undefined = use the slow path. */
  lstat(path: string): Stat | null | undefined {
    const s = this.confiner.known;
    if (!s?.procfd || path === '') return undefined;
    const pins = this.pinCache(s.realRoot);
    try {
      const st = pins.lstat(parentOf(path), baseName(path));
      if (st !== undefined) return st === null ? null : toStat(st);
      // The folder could not be pinned. Below a missing folder or a plain file nothing
      // exists (the slow path's rule too), which the nearest ancestor that pins can show:
      // the 1,000 entries of a folder just renamed away were each looked up the slow way,
      // an lstat walk of the path on the thread pool (~70 ms of the sender's 0.8 s).
      return this.underNoFolder(parentOf(path)) ? null : undefined;
    } catch {
      return undefined;
    }
  }

  /** `dir` or an ancestor is missing or a plain file, seen through a pinned parent. */
  private underNoFolder(dir: string): boolean {
    for (let d = dir; d !== ''; d = parentOf(d)) {
      const st = this.pins!.lstat(parentOf(d), baseName(d));
      if (st === undefined) continue; // its parent cannot be pinned either: look higher
      // A symlink is for the slow path to report; a folder here now means a race.
      return st === null || (!st.isDirectory() && !st.isSymbolicLink());
    }
    return false;
  }

  /** Fast path (Linux): the OS path of `path` through a cached, re-verified folder handle. null = slow path. */
  entry(path: string): string | null {
    const s = this.confiner.known;
    if (!s?.procfd) return null;
    return this.pinCache(s.realRoot).entry(parentOf(path), baseName(path));
  }
}
