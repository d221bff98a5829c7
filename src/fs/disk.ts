// DiskFs: the FileSystem over a real folder. Every path is validated (checkFsPath), every
// operation runs inside a directory pinned by Confiner (no symlinked or swapped ancestor
// can redirect it, see disk-confine.ts) and never follows a final symlink. Files are
// written only through DiskTempFile: temp name, fsync, atomic rename, fsync the folder.
import { constants as C, closeSync, fstatSync, openSync } from 'node:fs';
import { lutimes, mkdir, readdir, readlink, rename, rmdir, symlink, unlink } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { AncestorError } from './ancestor-error.ts';
import { absOf, type ConfineMode, Confiner, type PinnedDir } from './disk-confine.ts';
import { errnoOf, toFsError } from './disk-errors.ts';
import { PinnedLookups } from './disk-pinned-lookups.ts';
import { FdReadHandle } from './disk-read.ts';
import { kindOf, lstatOrNull, lstatOrNullSync, utimeSeconds } from './disk-stat.ts';
import { openTempIn } from './disk-temp.ts';
import { checkFsPath, checkLinkText, checkSyncedPath, pooledRandom } from './fs-paths.ts';
import { baseName, compareUtf8, parentOf } from './paths.ts';
import { readSmallFiles } from './small-files.ts';
import {
  type DirEntry,
  type FileSystem,
  FsError,
  type ReadHandle,
  type SmallFile,
  type Stat,
  type TempFile,
} from './types.ts';

export type { ConfineMode } from './disk-confine.ts';
export { removeStaleTemps } from './stale-temps.ts';

export interface DiskFsOptions {
  /** 'auto' (default): /proc/self/fd pinning on Linux, lstat checks elsewhere. */
  confine?: ConfineMode;
  /**
   * Bits that chmod, mkdir and commit may set. Default 0o777: a peer cannot make a
   * setuid/setgid/sticky entry appear here. Use 0o7777 to replicate them.
   */
  modeMask?: number;
  random?: (n: number) => Uint8Array;
}

export class DiskFs implements FileSystem {
  private readonly confiner: Confiner;
  private readonly pinned: PinnedLookups;
  private readonly modeMask: number;
  private readonly random: (n: number) => Uint8Array;

  constructor(
    readonly root: string,
    opts: DiskFsOptions = {},
  ) {
    if (!isAbsolute(root)) throw new Error(`DiskFs root must be an absolute path: ${root}`);
    this.confiner = new Confiner(root, opts.confine ?? 'auto');
    this.pinned = new PinnedLookups(this.confiner);
    this.modeMask = opts.modeMask ?? 0o777;
    this.random = opts.random ?? pooledRandom;
  }

  /** The confinement mechanism in use: 'procfd' (race-free) or 'lstat' (check then act). */
  mechanism(): Promise<'procfd' | 'lstat'> {
    return this.confiner.mechanism();
  }

  async lstat(path: string): Promise<Stat | null> {
    checkFsPath(path, true);
    const quick = this.pinned.lstat(path);
    if (quick !== undefined) return quick;
    if (path === '') return this.inDir('', '', (dir) => lstatOrNull(dir.entry('.')), true);
    try {
      return await this.inEntry(path, (dir, name) => lstatOrNull(dir.entry(name)));
    } catch (err) {
      // Below a missing directory or a plain file nothing exists; a symlink stays an error.
      if (err instanceof AncestorError && (err.reason === 'missing' || err.reason === 'notdir')) return null;
      throw err;
    }
  }

  async readdir(path: string): Promise<DirEntry[]> {
    checkFsPath(path, true);
    return this.inDir(
      path,
      path,
      async (dir) => {
        const entries = await readdir(dir.self, { withFileTypes: true });
        return entries
          .map((e): DirEntry => ({ name: e.name, kind: kindOf(e) }))
          .sort((a, b) => compareUtf8(a.name, b.name));
      },
      true,
    );
  }

  async readdirStat(path: string): Promise<{ name: string; stat: Stat | null }[]> {
    checkFsPath(path, true);
    // One pinned folder for all its entries: one lstat per entry instead of a pin each,
    // made in-line (a metadata syscall of microseconds; on the thread pool, a walk of
    // 100 new files cost the event loop a round trip each).
    return this.inDir(
      path,
      path,
      async (dir) => {
        const names = (await readdir(dir.self)).sort(compareUtf8);
        return names.map((name) => ({ name, stat: lstatOrNullSync(dir.entry(name)) }));
      },
      true,
    );
  }

  async readlink(path: string): Promise<string> {
    checkFsPath(path);
    return this.inEntry(path, (dir, name) => readlink(dir.entry(name)));
  }

  async openRead(path: string): Promise<ReadHandle> {
    checkFsPath(path);
    // Fast path: the folder through a cached, re-verified handle (see disk-pins.ts).
    const via = this.pinned.entry(path);
    if (via !== null) return this.openFd(path, via);
    return this.inEntry(path, async (dir, name) => this.openFd(path, dir.entry(name)));
  }

  async readSmall(paths: string[], max: number, inlineMax: number): Promise<(SmallFile | null)[] | null> {
    for (const p of paths) checkFsPath(p);
    const s = this.confiner.known;
    if (!s?.procfd) return null;
    return readSmallFiles(
      paths.map((p) => absOf(s.realRoot, parentOf(p))),
      paths.map(baseName),
      max,
      inlineMax,
    );
  }

  /** open + fstat, made synchronously (see fd-io.ts). */
  private openFd(path: string, osPath: string): ReadHandle {
    let fd: number;
    try {
      // O_NOFOLLOW: a final symlink fails (ELOOP); O_NONBLOCK: a FIFO cannot hang us.
      fd = openSync(osPath, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch (err) {
      throw toFsError(err, path);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new FsError('ERR_IO', path, `not a regular file (${kindOf(st)})`);
      return new FdReadHandle(path, fd, st);
    } catch (err) {
      closeSync(fd);
      throw toFsError(err, path);
    }
  }

  async createTemp(target: string, size?: number): Promise<TempFile> {
    checkSyncedPath(target);
    return this.confiner.exclusive(() => this.openTemp(target, size));
  }

  private async openTemp(target: string, size?: number): Promise<TempFile> {
    const dir = await this.confiner.pin(parentOf(target), target);
    return openTempIn(dir, target, this.random, this.modeMask, (fn) => this.confiner.exclusive(fn), size);
  }

  /** Creates missing parents (umask applies to them); the final directory must not exist. */
  async mkdir(path: string, mode?: number): Promise<void> {
    checkSyncedPath(path);
    await this.confiner.exclusive(() => this.mkdirs(path, mode));
  }

  private async mkdirs(path: string, mode: number | undefined): Promise<void> {
    const parts = path.split('/');
    let dir = await this.confiner.pin('', path);
    try {
      for (const [i, name] of parts.entries()) {
        const last = i === parts.length - 1;
        try {
          await mkdir(dir.entry(name), last && mode !== undefined ? mode & 0o777 : 0o777);
        } catch (err) {
          if (errnoOf(err) !== 'EEXIST') throw err;
          if (last) throw new FsError('ERR_EXISTS', path, 'already exists');
        }
        if (last) {
          // mkdir's mode is filtered by the umask; set the exact bits asked for.
          if (mode !== undefined) await dir.chmod(name, mode & this.modeMask, path);
          return;
        }
        const next = await dir.child(name, path);
        await dir.close();
        dir = next;
      }
    } catch (err) {
      throw toFsError(err, path);
    } finally {
      await dir.close();
    }
  }

  async rmdir(path: string): Promise<void> {
    checkSyncedPath(path);
    await this.pinned.changingFolders(() => this.inEntry(path, (dir, name) => rmdir(dir.entry(name))));
  }

  async unlink(path: string): Promise<void> {
    checkFsPath(path);
    await this.inEntry(path, (dir, name) => unlink(dir.entry(name)));
  }

  async rename(from: string, to: string): Promise<void> {
    checkFsPath(from);
    checkFsPath(to);
    await this.pinned.changingFolders(() => this.confiner.exclusive(() => this.move(from, to)));
  }

  private async move(from: string, to: string): Promise<void> {
    const a = await this.confiner.pin(parentOf(from), from);
    let b: PinnedDir | undefined;
    try {
      b = parentOf(to) === parentOf(from) ? a : await this.confiner.pin(parentOf(to), to);
      await rename(a.entry(baseName(from)), b.entry(baseName(to)));
    } catch (err) {
      const e = toFsError(err, from);
      throw e.path === from ? new FsError(e.code, from, `${e.message} (renaming to ${to})`, e.cause) : e;
    } finally {
      await a.close();
      if (b !== undefined && b !== a) await b.close();
    }
  }

  async symlink(target: string, path: string): Promise<void> {
    checkSyncedPath(path);
    checkLinkText(target, path);
    await this.inEntry(path, (dir, name) => symlink(target, dir.entry(name)));
  }

  async chmod(path: string, mode: number): Promise<void> {
    checkFsPath(path);
    await this.inEntry(path, (dir, name) => dir.chmod(name, mode & this.modeMask, path));
  }

  async utimes(path: string, mtimeMs: number): Promise<void> {
    checkFsPath(path);
    const seconds = utimeSeconds(mtimeMs);
    await this.inEntry(path, (dir, name) => lutimes(dir.entry(name), seconds, seconds));
  }

  async fsyncDir(path: string): Promise<void> {
    checkFsPath(path, true);
    await this.inDir(path, path, (dir) => dir.sync(), true);
  }

  /** Run fn on the entry `path` inside its pinned parent directory. */
  private inEntry<T>(path: string, fn: (dir: PinnedDir, name: string) => Promise<T>): Promise<T> {
    return this.inDir(parentOf(path), path, (dir) => fn(dir, baseName(path)));
  }

  private async inDir<T>(
    rel: string,
    errPath: string,
    fn: (dir: PinnedDir) => Promise<T>,
    operand = false,
  ): Promise<T> {
    return this.confiner.exclusive(async () => {
      const dir = await this.confiner.pin(rel, errPath, operand);
      try {
        return await fn(dir);
      } catch (err) {
        throw toFsError(err, errPath);
      } finally {
        await dir.close();
      }
    });
  }
}
