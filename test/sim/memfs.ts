// MemFs: the FileSystem of the deterministic simulator. Same contract, confinement and
// error codes as DiskFs (symlinks never followed, ERR_PATH_UNSAFE through a symlinked
// ancestor), everything in memory: inode numbers from a counter, times from the injected
// clock, temp names from the injected random. Every change — by the node through this
// interface or by the simulated user (`user`) — is reported to `onEvents` through the
// injected scheduler, as a real watcher would report it some time later.
import { AncestorError } from '../../src/fs/ancestor-error.ts';
import { checkFsPath, checkLinkText, checkSyncedPath, tempName } from '../../src/fs/fs-paths.ts';
import { compareUtf8, parentOf } from '../../src/fs/paths.ts';
import {
  type DirEntry,
  type FileSystem,
  FsError,
  type ReadHandle,
  type Stat,
  type TempFile,
} from '../../src/fs/types.ts';
import type { WatchEvent } from '../../src/fs/watcher/types.ts';
import { MemEvents } from './memfs-events.ts';
import { MemReadHandle, MemTempFile } from './memfs-handles.ts';
import { type SnapshotEntry, snapshotTree } from './memfs-snapshot.ts';
import { join, MemTree } from './memfs-tree.ts';
import { MemUser } from './memfs-user.ts';

export interface MemFsOptions {
  now: () => number;
  random: (n: number) => Uint8Array;
  /** Runs event delivery later (the simulator's queue); never called synchronously back. */
  schedule: (fn: () => void) => void;
  /** Label used as `root` in messages. */
  root?: string;
  /** As DiskFsOptions.modeMask (default 0o777). */
  modeMask?: number;
  /** Applied to directories created without a mode, as a process umask would (0o022). */
  umask?: number;
}

export class MemFs implements FileSystem {
  readonly root: string;
  readonly tree: MemTree;
  /** The simulated person editing the folder. */
  readonly user: MemUser;
  private readonly events: MemEvents;
  private readonly modeMask: number;
  private readonly umask: number;

  constructor(
    private readonly opts: MemFsOptions,
    tree?: MemTree,
  ) {
    this.root = opts.root ?? '/mem';
    this.tree = tree ?? new MemTree(opts.now);
    this.events = new MemEvents(opts.schedule);
    this.modeMask = opts.modeMask ?? 0o777;
    this.umask = opts.umask ?? 0o022;
    this.user = new MemUser(this.tree, this.events);
  }

  /** Watcher hook: every batch of changes, delivered through `schedule`. */
  get onEvents(): ((events: WatchEvent[]) => void) | null {
    return this.events.onEvents;
  }
  set onEvents(fn: ((events: WatchEvent[]) => void) | null) {
    this.events.onEvents = fn;
  }

  /** A deep copy of the tree as it is now: the disk a crashed node restarts on. */
  cloneTree(): MemTree {
    return this.tree.clone();
  }

  /**
   * Crash: a fresh MemFs on a copy of this disk. The old instance keeps its own tree, so
   * whatever the dead node still had in flight cannot touch the new one; undelivered
   * events of the old one are dropped.
   */
  restart(opts: Partial<MemFsOptions> = {}): MemFs {
    this.events.discard();
    this.events.onEvents = null;
    return new MemFs({ ...this.opts, ...opts }, this.cloneTree());
  }

  /** Sorted content of the folder for convergence checks (own names left out). */
  snapshot(includeOwn = false): SnapshotEntry[] {
    return snapshotTree(this.tree, includeOwn);
  }

  async lstat(path: string): Promise<Stat | null> {
    checkFsPath(path, true);
    if (path === '') return this.tree.statOf(this.tree.root);
    try {
      const { node } = this.tree.locate(path);
      return node === undefined ? null : this.tree.statOf(node);
    } catch (err) {
      if (err instanceof AncestorError && (err.reason === 'missing' || err.reason === 'notdir')) return null;
      throw err;
    }
  }

  async readdir(path: string): Promise<DirEntry[]> {
    checkFsPath(path, true);
    const dir = this.tree.dirAt(path, path, true);
    return [...dir.children]
      .map(([name, node]): DirEntry => ({ name, kind: node.kind }))
      .sort((a, b) => compareUtf8(a.name, b.name));
  }

  async readdirStat(path: string): Promise<{ name: string; stat: Stat | null }[]> {
    const entries = await this.readdir(path);
    return Promise.all(
      entries.map(async (e) => ({
        name: e.name,
        stat: await this.lstat(path === '' ? e.name : `${path}/${e.name}`),
      })),
    );
  }

  async readlink(path: string): Promise<string> {
    checkFsPath(path);
    const { node } = this.tree.existing(path);
    if (node.kind !== 'link') throw new FsError('ERR_IO', path, 'EINVAL: not a symlink');
    return node.target;
  }

  async openRead(path: string): Promise<ReadHandle> {
    checkFsPath(path);
    const { node } = this.tree.existing(path);
    if (node.kind === 'link') throw new FsError('ERR_PATH_UNSAFE', path, 'is a symlink (not followed)');
    if (node.kind !== 'file') throw new FsError('ERR_IO', path, `not a regular file (${node.kind})`);
    return new MemReadHandle(this.tree, path, node);
  }

  async createTemp(target: string): Promise<TempFile> {
    checkSyncedPath(target);
    const { dir } = this.tree.locate(target);
    for (let attempt = 0; attempt < 8; attempt++) {
      const name = tempName(this.opts.random(8));
      if (dir.children.has(name)) continue;
      const file = this.tree.makeFile(0o600);
      this.tree.put(dir, name, file);
      const path = join(parentOf(target), name);
      return new MemTempFile(path, this.tree, this.events, dir, file, this.modeMask);
    }
    throw new FsError('ERR_EXISTS', target, 'no free temp-file name after 8 attempts');
  }

  /** Creates missing parents (umask applies to them); the final directory must not exist. */
  async mkdir(path: string, mode?: number): Promise<void> {
    checkSyncedPath(path);
    const parts = path.split('/');
    let dir = this.tree.root;
    for (const [i, name] of parts.entries()) {
      const at = parts.slice(0, i + 1).join('/');
      const last = i === parts.length - 1;
      const node = dir.children.get(name);
      if (last && node !== undefined) throw new FsError('ERR_EXISTS', path, 'already exists');
      if (node === undefined) {
        const made = this.tree.makeDir(
          last && mode !== undefined ? mode & this.modeMask : 0o777 & ~this.umask,
        );
        this.tree.put(dir, name, made);
        this.events.emit(at, 'addDir');
        dir = made;
      } else if (node.kind === 'link') {
        throw new AncestorError('symlink', path, at);
      } else if (node.kind !== 'dir') {
        throw new AncestorError('notdir', path, at);
      } else {
        dir = node;
      }
    }
  }

  async rmdir(path: string): Promise<void> {
    checkSyncedPath(path);
    const { dir, name, node } = this.tree.existing(path);
    if (node.kind !== 'dir') throw new FsError('ERR_NOT_FOUND', path, 'ENOTDIR: not a directory');
    if (node.children.size > 0) throw new FsError('ERR_NOT_EMPTY', path, 'directory not empty');
    this.tree.remove(dir, name);
    this.events.emit(path, 'unlinkDir');
  }

  async unlink(path: string): Promise<void> {
    checkFsPath(path);
    const { dir, name, node } = this.tree.existing(path);
    if (node.kind === 'dir') throw new FsError('ERR_IO', path, 'EISDIR: is a directory');
    this.tree.remove(dir, name);
    this.events.emit(path, 'unlink');
  }

  async rename(from: string, to: string): Promise<void> {
    checkFsPath(from);
    checkFsPath(to);
    // Same order as DiskFs: both folders are checked before the source's existence.
    this.tree.locate(from);
    this.tree.locate(to);
    const node = this.tree.existing(from).node;
    if (from === to) return;
    const replaced = this.tree.move(from, to);
    this.events.removed(from, node);
    if (replaced !== undefined) this.events.removed(to, replaced);
    this.events.added(to, node);
  }

  async symlink(target: string, path: string): Promise<void> {
    checkSyncedPath(path);
    checkLinkText(target, path);
    const { dir, name, node } = this.tree.locate(path);
    if (node !== undefined) throw new FsError('ERR_EXISTS', path, 'already exists');
    this.tree.put(dir, name, this.tree.makeLink(target));
    this.events.emit(path, 'add');
  }

  async chmod(path: string, mode: number): Promise<void> {
    checkFsPath(path);
    const { node } = this.tree.existing(path);
    if (node.kind === 'link') throw new FsError('ERR_PATH_UNSAFE', path, 'is a symlink');
    node.mode = mode & this.modeMask;
    this.tree.touched(node);
    this.events.emit(path, node.kind === 'dir' ? 'unknown' : 'change');
  }

  async utimes(path: string, mtimeMs: number): Promise<void> {
    checkFsPath(path);
    const { node } = this.tree.existing(path);
    node.mtimeMs = mtimeMs;
    this.tree.touched(node);
    this.events.emit(path, node.kind === 'dir' ? 'unknown' : 'change');
  }

  async fsyncDir(path: string): Promise<void> {
    checkFsPath(path, true);
    this.tree.dirAt(path, path, true);
  }
}
