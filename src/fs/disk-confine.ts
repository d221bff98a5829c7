// How DiskFs keeps every operation inside the folder without ever going through a symlink.
//
// Linux ('procfd'): the directory an operation works in is opened with
// O_PATH|O_DIRECTORY|O_NOFOLLOW and the kernel is asked where that handle really is
// (readlink /proc/self/fd/N). Only if that is exactly <real root>/<relative dir> — i.e. no
// component was a symlink and nothing was renamed in between — is it used, and the
// operation then names its entry as /proc/self/fd/N/<name>. The kernel resolves that
// through the pinned handle, so swapping an ancestor for a symlink after the check changes
// nothing: the operation still lands in the verified directory. Final components are never
// followed (lstat, rename, unlink, lutimes, O_NOFOLLOW opens; chmod via an O_PATH handle).
// No cache is needed: verification is two syscalls, so a stale cache cannot exist.
//
// Elsewhere ('lstat'): every component is lstat-ed immediately before each operation, and
// operations run one at a time (exclusive), so the node cannot race itself; a concurrent
// local process could still swap a component between check and use (see SECURITY.md).
import { constants as C, closeSync, fstatSync, fsync, openSync, readlinkSync } from 'node:fs';
import { chmod, lchmod, lstat, open, readlink, realpath } from 'node:fs/promises';
import { AncestorError } from './ancestor-error.ts';
import { errnoOf, isMissing, toFsError } from './disk-errors.ts';
import { joinPath } from './paths.ts';
import { FsError } from './types.ts';

/** Linux O_PATH (same value on every architecture node supports). */
const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;

export type ConfineMode = 'auto' | 'procfd' | 'lstat';

/** A verified directory; entries are reached through it without re-resolving ancestors. */
export interface PinnedDir {
  /** Relative path of the directory ('' = root). */
  readonly rel: string;
  /** OS path of the directory itself (for readdir). */
  readonly self: string;
  /** OS path of an entry of this directory; its final component is the entry's name. */
  entry(name: string): string;
  /** Open a subdirectory the same way (refusing symlinks and non-directories). */
  child(name: string, errPath: string): Promise<PinnedDir>;
  /**
   * Re-verify right before a later step (commit's rename): a no-op where the directory is
   * pinned by a handle; a fresh lstat walk where it is only a path.
   */
  recheck(errPath: string): Promise<void>;
  /** chmod an entry without following it if it is a symlink. */
  chmod(name: string, mode: number, errPath: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The OS path of folder `rel` under the real root. */
export function absOf(realRoot: string, rel: string): string {
  if (rel === '') return realRoot;
  return realRoot === '/' ? `/${rel}` : `${realRoot}/${rel}`;
}

/**
 * fsync a folder. Opening and closing it are metadata calls of microseconds, made here;
 * only the fsync goes to the thread pool (a 5,000-file burst syncs its 50 folders once per
 * group commit: three pool round trips each were ~0.1 s of the receiver's main thread).
 */
async function syncDirAt(osPath: string, flags: number): Promise<void> {
  const fd = openSync(osPath, C.O_RDONLY | C.O_DIRECTORY | flags);
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    closeSync(fd);
  }
}

/** Why an entry cannot serve as a directory, or null if it is a real one. */
async function whyNotDir(osPath: string, rel: string, errPath: string): Promise<AncestorError | null> {
  const st = await lstat(osPath).catch((err: unknown) => {
    if (isMissing(err)) return null;
    throw toFsError(err, errPath);
  });
  if (st === null) return new AncestorError('missing', errPath, rel);
  if (st.isSymbolicLink()) return new AncestorError('symlink', errPath, rel);
  if (!st.isDirectory()) return new AncestorError('notdir', errPath, rel);
  return null;
}

// The handle is a raw O_PATH descriptor and its calls are synchronous: opening, asking
// where it is and closing are metadata syscalls of microseconds, where a thread-pool round
// trip each cost far more in a burst of small files.
class FdPinned implements PinnedDir {
  readonly self: string;
  private closed = false;
  constructor(
    readonly rel: string,
    private readonly fd: number,
  ) {
    this.self = `/proc/self/fd/${fd}`;
  }
  entry(name: string): string {
    // After close the fd number may already name something else: never hand out a path.
    if (this.closed)
      throw new FsError('ERR_IO', joinPath(this.rel, name), 'directory handle used after close');
    return `${this.self}/${name}`;
  }
  async child(name: string, errPath: string): Promise<PinnedDir> {
    const rel = joinPath(this.rel, name);
    try {
      return new FdPinned(rel, openSync(this.entry(name), DIR_FLAGS));
    } catch (err) {
      if (!isMissing(err) && errnoOf(err) !== 'ELOOP') throw toFsError(err, errPath);
      throw (await whyNotDir(this.entry(name), rel, errPath)) ?? new AncestorError('changed', errPath, rel);
    }
  }
  async recheck(): Promise<void> {}
  async chmod(name: string, mode: number, errPath: string): Promise<void> {
    // An O_PATH handle pins the entry itself; chmod through its /proc link hits that inode.
    const fd = openSync(this.entry(name), O_PATH | C.O_NOFOLLOW);
    try {
      if (fstatSync(fd).isSymbolicLink()) throw new FsError('ERR_PATH_UNSAFE', errPath, 'is a symlink');
      await chmod(`/proc/self/fd/${fd}`, mode);
    } finally {
      closeSync(fd);
    }
  }
  sync(): Promise<void> {
    if (this.closed) throw new FsError('ERR_IO', this.rel, 'directory handle used after close');
    return syncDirAt(this.self, 0);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

class PathPinned implements PinnedDir {
  constructor(
    readonly rel: string,
    readonly self: string,
    private readonly verify: (rel: string, errPath: string) => Promise<void>,
  ) {}
  entry(name: string): string {
    return `${this.self}/${name}`;
  }
  async child(name: string, errPath: string): Promise<PinnedDir> {
    const problem = await whyNotDir(this.entry(name), joinPath(this.rel, name), errPath);
    if (problem !== null) throw problem;
    return new PathPinned(joinPath(this.rel, name), this.entry(name), this.verify);
  }
  async recheck(errPath: string): Promise<void> {
    await this.verify(this.rel, errPath);
  }
  async chmod(name: string, mode: number, errPath: string): Promise<void> {
    if ((await lstat(this.entry(name))).isSymbolicLink()) {
      throw new FsError('ERR_PATH_UNSAFE', errPath, 'is a symlink');
    }
    // macOS has lchmod, which cannot follow even if the entry was just swapped.
    await (process.platform === 'darwin' ? lchmod : chmod)(this.entry(name), mode);
  }
  sync(): Promise<void> {
    return syncDirAt(this.self, C.O_NOFOLLOW);
  }
  async close(): Promise<void> {}
}

interface Setup {
  realRoot: string;
  procfd: boolean;
}

export class Confiner {
  private setup: Promise<Setup> | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly root: string,
    private readonly mode: ConfineMode,
  ) {}

  /** Which mechanism is in use (after the first operation). */
  async mechanism(): Promise<'procfd' | 'lstat'> {
    return (await this.ready()).procfd ? 'procfd' : 'lstat';
  }

  /**
   * Run one operation's check-then-act section. With pinned handles there is nothing to
   * protect; with lstat checks, operations of this FileSystem run one at a time, so that
   * the node cannot race itself (a peer's symlink landing between our check and our use).
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if ((await this.ready()).procfd) return fn();
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  async realRoot(): Promise<string> {
    return (await this.ready()).realRoot;
  }

  /** The set-up once known (after the first operation), for synchronous fast paths. */
  known: Setup | null = null;

  /**
   * Open directory `rel` for an operation on `errPath`. `operand` = the directory is what
   * the operation is about (readdir, fsyncDir): if it is a plain file that is ERR_NOT_FOUND
   * rather than an unsafe ancestor.
   */
  async pin(rel: string, errPath: string, operand = false): Promise<PinnedDir> {
    const s = await this.ready();
    const abs = absOf(s.realRoot, rel);
    if (!s.procfd) {
      const verify = async (dir: string, p: string) => {
        const problem = await this.findProblem(s, dir, p, operand);
        if (problem !== null) throw problem;
      };
      await verify(rel, errPath);
      return new PathPinned(rel, abs, verify);
    }
    let fd: number;
    try {
      fd = openSync(abs, DIR_FLAGS);
    } catch (err) {
      if (!isMissing(err) && errnoOf(err) !== 'ELOOP') throw toFsError(err, errPath);
      throw (await this.findProblem(s, rel, errPath, operand)) ?? new AncestorError('changed', errPath, rel);
    }
    let real: string;
    try {
      real = readlinkSync(`/proc/self/fd/${fd}`);
    } catch (err) {
      closeSync(fd);
      throw toFsError(err, errPath);
    }
    if (real === abs) return new FdPinned(rel, fd);
    closeSync(fd);
    throw (await this.findProblem(s, rel, errPath, operand)) ?? new AncestorError('changed', errPath, rel);
  }

  /** Walk the components of `rel` with lstat; the first bad one, or null if all are dirs. */
  private async findProblem(
    s: Setup,
    rel: string,
    errPath: string,
    operand: boolean,
  ): Promise<AncestorError | null> {
    const parts = rel === '' ? [] : rel.split('/');
    for (let i = 0; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const err = await whyNotDir(absOf(s.realRoot, prefix), prefix, errPath);
      if (err === null) continue;
      if (operand && i === parts.length && err.reason === 'notdir') {
        return new AncestorError('notdir', errPath, prefix, true);
      }
      return err;
    }
    return null;
  }

  private ready(): Promise<Setup> {
    if (this.setup === undefined) {
      const p = this.probe();
      this.setup = p;
      // A missing root may appear later: do not cache the failure.
      p.catch(() => {
        if (this.setup === p) this.setup = undefined;
      });
    }
    return this.setup;
  }

  private async probe(): Promise<Setup> {
    let realRoot: string;
    try {
      realRoot = await realpath(this.root);
    } catch (err) {
      throw toFsError(err, '');
    }
    if (!(await lstat(realRoot).catch((err: unknown) => Promise.reject(toFsError(err, '')))).isDirectory()) {
      throw new FsError('ERR_NOT_FOUND', '', `${this.root} is not a directory`);
    }
    let procfd = false;
    if (this.mode !== 'lstat' && process.platform === 'linux') {
      try {
        const fh = await open(realRoot, DIR_FLAGS);
        try {
          procfd = (await readlink(`/proc/self/fd/${fh.fd}`)) === realRoot;
        } finally {
          await fh.close();
        }
      } catch {
        procfd = false;
      }
    }
    if (this.mode === 'procfd' && !procfd) {
      throw new FsError('ERR_IO', '', 'directory pinning through /proc/self/fd is not available');
    }
    this.known = { realRoot, procfd };
    return this.known;
  }
}
