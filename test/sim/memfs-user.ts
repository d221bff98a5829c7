// The simulated person at the keyboard: edits the folder directly, not through the
// FileSystem contract (no temp files, in-place writes, mkdir -p, rm -r), and every edit
// produces watcher events. Paths are not validated as synced paths: a user may create
// names the sync must refuse. The user does not follow symlinks either (simpler, and the
// simulator only needs them as hostile objects).
import { AncestorError } from '../../src/fs/ancestor-error.ts';
import { FsError } from '../../src/fs/types.ts';
import type { MemEvents } from './memfs-events.ts';
import { type MemDir, type MemFile, type MemNode, type MemTree, writeAt } from './memfs-tree.ts';

function checkRelative(path: string): void {
  if (
    path === '' ||
    path.startsWith('/') ||
    path.split('/').some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new FsError('ERR_PATH_UNSAFE', path, 'user paths are relative, without "." or ".."');
  }
}

export class MemUser {
  constructor(
    private readonly tree: MemTree,
    private readonly events: MemEvents,
  ) {}

  /** Create or overwrite in place (same inode, like `cat > f`). */
  writeFile(path: string, bytes: Uint8Array | string, mode?: number): void {
    const file = this.fileFor(path, mode ?? 0o644);
    file.node.size = 0;
    writeAt(file.node, toBytes(bytes), 0);
    if (mode !== undefined) file.node.mode = mode;
    this.tree.modified(file.node);
    this.events.emit(path, file.created ? 'add' : 'change');
  }

  appendFile(path: string, bytes: Uint8Array | string): void {
    const file = this.fileFor(path, 0o644);
    writeAt(file.node, toBytes(bytes), file.node.size);
    this.tree.modified(file.node);
    this.events.emit(path, file.created ? 'add' : 'change');
  }

  /** mkdir -p: existing directories are fine. */
  mkdir(path: string, mode = 0o755): void {
    checkRelative(path);
    let dir = this.tree.root;
    const parts = path.split('/');
    for (const [i, name] of parts.entries()) {
      const at = parts.slice(0, i + 1).join('/');
      let node = dir.children.get(name);
      if (node === undefined) {
        node = this.tree.makeDir(mode);
        this.tree.put(dir, name, node);
        this.events.emit(at, 'addDir');
      }
      if (node.kind !== 'dir') throw new AncestorError(node.kind === 'link' ? 'symlink' : 'notdir', path, at);
      dir = node;
    }
  }

  /** rm: a file, symlink or special file. */
  rm(path: string): void {
    const { dir, name, node } = this.existing(path);
    if (node.kind === 'dir') throw new FsError('ERR_IO', path, 'is a directory (use rmdir)');
    this.tree.remove(dir, name);
    this.events.emit(path, 'unlink');
  }

  /** rm -r: anything, with everything below it. */
  rmdir(path: string): void {
    const { dir, name, node } = this.existing(path);
    this.tree.remove(dir, name);
    this.events.removed(path, node);
  }

  /**
   * mv: rename(2) semantics (replaces a file or an empty directory). `only`: events for the
   * two names alone, as inotify reports a moved folder (its contents send none).
   */
  mv(from: string, to: string, opts: { only?: boolean } = {}): void {
    checkRelative(to);
    const { node } = this.existing(from);
    if (from === to) return;
    const replaced = this.tree.move(from, to);
    const dir = node.kind === 'dir';
    if (opts.only) this.events.emit(from, dir ? 'unlinkDir' : 'unlink');
    else this.events.removed(from, node);
    if (replaced !== undefined) this.events.removed(to, replaced);
    if (opts.only) this.events.emit(to, dir ? 'addDir' : 'add');
    else this.events.added(to, node);
  }

  chmod(path: string, mode: number): void {
    const { node } = this.existing(path);
    node.mode = mode;
    this.tree.touched(node);
    this.events.emit(path, node.kind === 'dir' ? 'unknown' : 'change');
  }

  /** touch -d: set the modification time. */
  setMtime(path: string, mtimeMs: number): void {
    const { node } = this.existing(path);
    node.mtimeMs = mtimeMs;
    this.tree.touched(node);
    this.events.emit(path, node.kind === 'dir' ? 'unknown' : 'change');
  }

  /** ln -s: the link text is anything, including targets outside the folder. */
  symlink(target: string, path: string): void {
    const { dir, name } = this.free(path);
    this.tree.put(dir, name, this.tree.makeLink(target));
    this.events.emit(path, 'add');
  }

  /** mkfifo: an entry that is neither file, directory nor symlink. */
  mkfifo(path: string, mode = 0o644): void {
    const { dir, name } = this.free(path);
    this.tree.put(dir, name, this.tree.makeOther(mode));
    this.events.emit(path, 'add');
  }

  private fileFor(path: string, mode: number): { node: MemFile; created: boolean } {
    const { dir, name, node } = this.slot(path);
    if (node === undefined) {
      const made = this.tree.makeFile(mode);
      this.tree.put(dir, name, made);
      return { node: made, created: true };
    }
    if (node.kind !== 'file') throw new FsError('ERR_IO', path, `not a regular file (${node.kind})`);
    return { node, created: false };
  }

  private existing(path: string): { dir: MemDir; name: string; node: MemNode } {
    checkRelative(path);
    return this.tree.existing(path);
  }

  private slot(path: string): { dir: MemDir; name: string; node: MemNode | undefined } {
    checkRelative(path);
    return this.tree.locate(path);
  }

  private free(path: string): { dir: MemDir; name: string } {
    const found = this.slot(path);
    if (found.node !== undefined)
      throw new FsError('ERR_EXISTS', path, `already exists (${found.node.kind})`);
    return found;
  }
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
