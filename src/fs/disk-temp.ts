// A file being written for DiskFs: it lives under a TEMP_PREFIX name in the target's
// folder (so scans ignore it and a crash leaves only a removable leftover) and becomes
// visible under the real name only by one atomic rename (or link, when the target must
// not exist), after its data and metadata are on disk. Apart from fsync and large writes its
// syscalls are synchronous metadata calls (see fd-io.ts for why).
import { constants as C, fchmodSync, futimesSync, linkSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { DIRECT_MIN } from './direct-write.ts';
import type { PinnedDir } from './disk-confine.ts';
import { errnoOf, isMissing, toFsError } from './disk-errors.ts';
import { lstatOrNullSync as lstatOrNull, toStat, utimeSeconds } from './disk-stat.ts';
import { FdIo } from './fd-io.ts';
import { checkSyncedPath, tempName } from './fs-paths.ts';
import { baseName, joinPath, parentOf } from './paths.ts';
import { describeStat, sameEntry } from './stat-match.ts';
import { type CommitOptions, FsError, type Stat, type TempFile } from './types.ts';

// link() is not supported everywhere (FAT, some network and FUSE filesystems).
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS']);

export class DiskTempFile implements TempFile {
  private state: 'open' | 'busy' | 'done' = 'open';
  private prepared: Stat | null = null;

  constructor(
    readonly path: string,
    private readonly dir: PinnedDir,
    private readonly name: string,
    private readonly io: FdIo,
    private readonly modeMask: number,
    /** Confiner.exclusive: runs the check-then-rename section without interleaving. */
    private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  async write(data: Uint8Array, position: number, copied?: boolean): Promise<void> {
    this.ensureOpen();
    await this.io.write(data, position, copied);
  }

  async prepare(meta: { mode: number; mtimeMs: number }): Promise<void> {
    this.ensureOpen();
    try {
      // Metadata first, then fsync: the file appears complete, with its final mode and mtime.
      await this.io.flush();
      const seconds = utimeSeconds(meta.mtimeMs);
      fchmodSync(this.io.fd, meta.mode & this.modeMask);
      futimesSync(this.io.fd, seconds, seconds);
      await this.io.fsync();
      this.prepared = toStat(this.io.stat());
      await this.io.close();
    } catch (err) {
      throw toFsError(err, this.path);
    }
  }

  async commit(target: string, opts: CommitOptions): Promise<Stat> {
    this.ensureOpen();
    checkSyncedPath(target);
    if (parentOf(target) !== this.dir.rel) {
      throw new FsError('ERR_PATH_UNSAFE', target, `not in the folder of temp file ${this.path}`);
    }
    if (!this.prepared) await this.prepare(opts);
    this.state = 'busy';
    return this.exclusive(() => this.place(target, opts));
  }

  private async place(target: string, opts: CommitOptions): Promise<Stat> {
    const entry = this.dir.entry(baseName(target));
    const tempEntry = this.dir.entry(this.name);
    try {
      await this.dir.recheck(target);
      if (opts.expect === null) {
        this.placeNew(target, entry, tempEntry);
      } else {
        if (opts.expect !== undefined) {
          const now = lstatOrNull(entry);
          if (!sameEntry(now, opts.expect)) throw this.changed(target, opts.expect, now);
        }
        // The window between this check and the rename is a few microseconds; POSIX
        // offers no compare-and-swap rename to close it.
        renameSync(tempEntry, entry);
      }
      this.state = 'done';
      const st = lstatOrNull(entry);
      if (opts.syncDir !== false) await this.dir.sync();
      if (st === null) throw new FsError('ERR_TARGET_CHANGED', target, 'vanished right after commit');
      // What we wrote, not what is there now: if the user changed the file in the instant
      // since the rename, the caller's index then differs from the disk and the change is seen.
      const p = this.prepared!;
      return { ...st, ino: p.ino, size: p.size, mtimeMs: p.mtimeMs, mode: p.mode, kind: 'file' };
    } catch (err) {
      await this.cleanup();
      throw toFsError(err, target);
    } finally {
      await this.dir.close();
    }
  }

  async abort(): Promise<void> {
    // After (or during) commit there is nothing left to remove: commit cleans up itself.
    if (this.state !== 'open') return;
    await this.exclusive(async () => {
      await this.cleanup();
      await this.dir.close();
    });
  }

  /** Target must not exist: link() refuses to replace anything, so no window at all. */
  private placeNew(target: string, entry: string, tempEntry: string): void {
    try {
      linkSync(tempEntry, entry);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') throw this.changed(target, null, lstatOrNull(entry));
      if (!NO_LINK.has(errnoOf(err) ?? '')) throw err;
      const now = lstatOrNull(entry);
      if (now !== null) throw this.changed(target, null, now);
      renameSync(tempEntry, entry);
      return;
    }
    unlinkSync(tempEntry);
  }

  private changed(target: string, expected: Stat | null, found: Stat | null): FsError {
    return new FsError(
      'ERR_TARGET_CHANGED',
      target,
      `changed before commit: expected ${describeStat(expected)}, found ${describeStat(found)}`,
    );
  }

  private async cleanup(): Promise<void> {
    if (this.state === 'done') return;
    this.state = 'done';
    await this.io.close().catch(() => {});
    // If the folder can no longer be verified, leave the temp file where it is (inside
    // the folder, removed at next start) rather than unlink by a path that may escape.
    if (
      !(await this.dir.recheck(this.path).then(
        () => true,
        () => false,
      ))
    )
      return;
    try {
      unlinkSync(this.dir.entry(this.name));
    } catch (err) {
      if (!isMissing(err)) throw toFsError(err, this.path);
    }
  }

  private ensureOpen(): void {
    if (this.state !== 'open')
      throw new FsError('ERR_IO', this.path, 'temp file already committed or aborted');
  }
}

/**
 * Create a temp file for `target` in its pinned folder `dir` (O_EXCL under a random name, a
 * few tries): the DiskTempFile owns `dir` from then on; on failure it is closed here. A file
 * announced at DIRECT_MIN bytes or more is written past the page cache where the
 * filesystem allows it (fs/direct-write.ts).
 */
export async function openTempIn(
  dir: PinnedDir,
  target: string,
  random: (n: number) => Uint8Array,
  modeMask: number,
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
  size = 0,
): Promise<TempFile> {
  const folder = parentOf(target);
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      const name = tempName(random(8));
      const path = joinPath(folder, name);
      try {
        const fd = openSync(dir.entry(name), TEMP_FLAGS, 0o600);
        const io = new FdIo(fd, path);
        if (size >= DIRECT_MIN) {
          const direct = openDirect(fd);
          if (direct !== null) io.writeDirect(direct, size);
        }
        return new DiskTempFile(path, dir, name, io, modeMask, exclusive);
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
    }
    throw new FsError('ERR_EXISTS', target, 'no free temp-file name after 8 attempts');
  } catch (err) {
    await dir.close();
    throw toFsError(err, target);
  }
}

const TEMP_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;

/**
 * The file behind `fd` opened again with O_DIRECT (through /proc, so it is the same file
 * whatever its name is now), or null where that is refused (tmpfs before Linux 6.6, some
 * FUSE and network filesystems) or unknown (node:fs defines O_DIRECT on Linux only).
 */
function openDirect(fd: number): number | null {
  if (process.platform !== 'linux' || C.O_DIRECT === undefined) return null;
  try {
    return openSync(`/proc/self/fd/${fd}`, C.O_WRONLY | C.O_DIRECT);
  } catch {
    return null;
  }
}
