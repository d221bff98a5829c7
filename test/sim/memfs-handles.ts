// Open files of MemFs. A read handle keeps the node it opened (as an fd keeps its inode:
// a rename over the path does not change what it reads). A temp file keeps the directory
// it was created in, as DiskFs pins it, and commits by one atomic move in that directory.
import { checkSyncedPath } from '../../src/fs/fs-paths.ts';
import { baseName, parentOf } from '../../src/fs/paths.ts';
import { describeStat, sameEntry } from '../../src/fs/stat-match.ts';
import {
  type CommitOptions,
  FsError,
  type ReadHandle,
  type Stat,
  type TempFile,
} from '../../src/fs/types.ts';
import type { MemEvents } from './memfs-events.ts';
import { type MemDir, type MemFile, type MemTree, writeAt } from './memfs-tree.ts';

export class MemReadHandle implements ReadHandle {
  private closed = false;
  constructor(
    private readonly tree: MemTree,
    private readonly path: string,
    private readonly file: MemFile,
  ) {}

  async read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    if (this.closed) throw new FsError('ERR_IO', this.path, 'read after close');
    const n = Math.max(0, Math.min(length, this.file.size - position));
    buf.set(this.file.data.subarray(position, position + n), offset);
    return n;
  }
  async stat(): Promise<Stat> {
    return this.tree.statOf(this.file);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export class MemTempFile implements TempFile {
  private state: 'open' | 'done' = 'open';

  constructor(
    readonly path: string,
    private readonly tree: MemTree,
    private readonly events: MemEvents,
    private readonly dir: MemDir,
    private readonly file: MemFile,
    private readonly modeMask: number,
  ) {}

  async write(data: Uint8Array, position: number): Promise<void> {
    this.ensureOpen();
    writeAt(this.file, data, position);
    this.tree.modified(this.file);
  }

  async prepare(meta: { mode: number; mtimeMs: number }): Promise<void> {
    this.ensureOpen();
    this.file.mode = meta.mode & this.modeMask;
    this.file.mtimeMs = meta.mtimeMs;
    this.tree.touched(this.file);
  }

  async commit(target: string, opts: CommitOptions): Promise<Stat> {
    this.ensureOpen();
    checkSyncedPath(target);
    if (parentOf(target) !== parentOf(this.path)) {
      throw new FsError('ERR_PATH_UNSAFE', target, `not in the folder of temp file ${this.path}`);
    }
    try {
      const name = baseName(target);
      if (this.dir.deleted || this.dir.children.get(baseName(this.path)) !== this.file) {
        throw new FsError('ERR_NOT_FOUND', target, 'temp file or its folder was removed');
      }
      this.file.mode = opts.mode & this.modeMask;
      this.file.mtimeMs = opts.mtimeMs;
      this.tree.touched(this.file);
      const existing = this.dir.children.get(name);
      const now = existing === undefined ? null : this.tree.statOf(existing);
      if (opts.expect !== undefined && !sameEntry(now, opts.expect)) {
        throw new FsError(
          'ERR_TARGET_CHANGED',
          target,
          `changed before commit: expected ${describeStat(opts.expect)}, found ${describeStat(now)}`,
        );
      }
      if (existing?.kind === 'dir') throw new FsError('ERR_IO', target, 'EISDIR: target is a directory');
      this.tree.remove(this.dir, baseName(this.path));
      this.tree.put(this.dir, name, this.file);
      this.tree.touched(this.file);
      this.state = 'done';
      this.events.emit(target, existing === undefined ? 'add' : 'change');
      return this.tree.statOf(this.file);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'done';
    const name = baseName(this.path);
    if (this.dir.children.get(name) === this.file) this.tree.remove(this.dir, name);
  }

  private ensureOpen(): void {
    if (this.state !== 'open')
      throw new FsError('ERR_IO', this.path, 'temp file already committed or aborted');
  }
}
