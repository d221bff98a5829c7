// The in-memory tree behind MemFs: nodes with inode numbers and times, path resolution
// that never follows symlinks, and the primitive mutations shared by the FileSystem side
// and the simulated user. Deterministic: inode numbers from a counter, times from `now`.
import { AncestorError } from '../../src/fs/ancestor-error.ts';
import { baseName, parentOf } from '../../src/fs/paths.ts';
import { FsError, type Stat } from '../../src/fs/types.ts';

interface Meta {
  ino: number;
  mode: number;
  mtimeMs: number;
  ctimeMs: number;
}
export interface MemFile extends Meta {
  kind: 'file';
  data: Uint8Array;
  size: number;
}
export interface MemDir extends Meta {
  kind: 'dir';
  children: Map<string, MemNode>;
  /** Removed from the tree (a pinned handle to it can no longer create entries). */
  deleted: boolean;
}
export interface MemLink extends Meta {
  kind: 'link';
  target: string;
}
/** A FIFO, socket or device: exists, cannot be read as a file. */
export interface MemOther extends Meta {
  kind: 'other';
}
export type MemNode = MemFile | MemDir | MemLink | MemOther;

const DIR_SIZE = 4096;
/** Smallest ctime step that is exact for epoch-millisecond magnitudes. */
const CTIME_STEP = 2 ** -10;

export function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export class MemTree {
  readonly root: MemDir;
  private nextIno: number;
  private lastChange = Number.NEGATIVE_INFINITY;

  constructor(
    readonly now: () => number,
    from?: MemTree,
  ) {
    if (from === undefined) {
      this.nextIno = 1;
      this.root = this.makeDir(0o755);
    } else {
      this.nextIno = from.nextIno;
      this.lastChange = from.lastChange;
      this.root = cloneNode(from.root) as MemDir;
    }
  }

  /** A deep copy sharing nothing: what is on "disk" after a crash. */
  clone(now: () => number = this.now): MemTree {
    return new MemTree(now, this);
  }

  /** ctime of a change: strictly increasing, as nanosecond ctimes on a real disk are. */
  changeTime(): number {
    const t = this.now();
    this.lastChange = t > this.lastChange ? t : this.lastChange + CTIME_STEP;
    return this.lastChange;
  }

  private meta(mode: number): Meta {
    const t = this.changeTime();
    return { ino: this.nextIno++, mode, mtimeMs: this.now(), ctimeMs: t };
  }
  makeFile(mode: number): MemFile {
    return { kind: 'file', data: new Uint8Array(0), size: 0, ...this.meta(mode) };
  }
  makeDir(mode: number): MemDir {
    return { kind: 'dir', children: new Map(), deleted: false, ...this.meta(mode) };
  }
  makeLink(target: string): MemLink {
    return { kind: 'link', target, ...this.meta(0o777) };
  }
  makeOther(mode: number): MemOther {
    return { kind: 'other', ...this.meta(mode) };
  }

  /** Content changed: mtime and ctime. */
  modified(node: MemNode): void {
    node.mtimeMs = this.now();
    node.ctimeMs = this.changeTime();
  }
  /** Metadata changed: ctime only. */
  touched(node: MemNode): void {
    node.ctimeMs = this.changeTime();
  }

  statOf(node: MemNode): Stat {
    const size =
      node.kind === 'file'
        ? node.size
        : node.kind === 'dir'
          ? DIR_SIZE
          : node.kind === 'link'
            ? Buffer.byteLength(node.target)
            : 0;
    return {
      kind: node.kind,
      size,
      mtimeMs: node.mtimeMs,
      ctimeMs: node.ctimeMs,
      ino: node.ino,
      mode: node.mode,
    };
  }

  /**
   * The directory at `rel`, every component checked: missing → ERR_NOT_FOUND, symlink or
   * non-directory → ERR_PATH_UNSAFE (except a non-directory operand: ERR_NOT_FOUND).
   */
  dirAt(rel: string, errPath: string, operand = false): MemDir {
    let dir = this.root;
    if (rel === '') return dir;
    const parts = rel.split('/');
    for (const [i, name] of parts.entries()) {
      const at = parts.slice(0, i + 1).join('/');
      const child = dir.children.get(name);
      if (child === undefined) throw new AncestorError('missing', errPath, at);
      if (child.kind === 'link') throw new AncestorError('symlink', errPath, at);
      if (child.kind !== 'dir')
        throw new AncestorError('notdir', errPath, at, operand && i === parts.length - 1);
      dir = child;
    }
    return dir;
  }

  /** The folder holding `path` (checked as dirAt does) and the entry there, if any. */
  locate(path: string): { dir: MemDir; name: string; node: MemNode | undefined } {
    const dir = this.dirAt(parentOf(path), path);
    const name = baseName(path);
    return { dir, name, node: dir.children.get(name) };
  }

  /** Like locate but the entry must exist. */
  existing(path: string): { dir: MemDir; name: string; node: MemNode } {
    const found = this.locate(path);
    if (found.node === undefined) throw new FsError('ERR_NOT_FOUND', path, 'does not exist');
    return { ...found, node: found.node };
  }

  put(dir: MemDir, name: string, node: MemNode): void {
    const old = dir.children.get(name);
    if (old !== undefined && old !== node) markDeleted(old);
    dir.children.set(name, node);
    this.modified(dir);
  }

  remove(dir: MemDir, name: string): void {
    const old = dir.children.get(name);
    if (old === undefined) return;
    dir.children.delete(name);
    markDeleted(old);
    this.modified(dir);
  }

  /**
   * rename(2): replaces a file or an empty directory; refuses what the kernel refuses,
   * with the codes DiskFs maps those errnos to. Returns the replaced node, if any.
   */
  move(from: string, to: string): MemNode | undefined {
    const src = this.existing(from);
    const dst = this.locate(to);
    if (dst.node === src.node) return undefined;
    if (src.node.kind === 'dir' && (to === from || to.startsWith(`${from}/`))) {
      throw new FsError('ERR_IO', from, `cannot move a directory into itself (${to})`);
    }
    if (dst.node !== undefined) {
      if (src.node.kind === 'dir' && dst.node.kind !== 'dir') {
        throw new FsError('ERR_NOT_FOUND', from, `ENOTDIR: ${to} is not a directory`);
      }
      if (src.node.kind !== 'dir' && dst.node.kind === 'dir') {
        throw new FsError('ERR_IO', from, `EISDIR: ${to} is a directory`);
      }
      if (dst.node.kind === 'dir' && dst.node.children.size > 0) {
        throw new FsError('ERR_NOT_EMPTY', from, `${to} is a non-empty directory`);
      }
    }
    const replaced = dst.node;
    src.dir.children.delete(src.name);
    this.modified(src.dir);
    this.put(dst.dir, dst.name, src.node);
    this.touched(src.node);
    return replaced;
  }
}

function markDeleted(node: MemNode): void {
  if (node.kind !== 'dir') return;
  node.deleted = true;
  for (const child of node.children.values()) markDeleted(child);
}

function cloneNode(node: MemNode): MemNode {
  switch (node.kind) {
    case 'file':
      return { ...node, data: node.data.slice(0, node.size) };
    case 'dir':
      return { ...node, children: new Map([...node.children].map(([k, v]) => [k, cloneNode(v)])) };
    default:
      return { ...node };
  }
}

/** Write bytes into a file node at a position, growing it (holes read as zeros). */
export function writeAt(file: MemFile, data: Uint8Array, position: number): void {
  const end = position + data.length;
  if (end > file.data.length) {
    const grown = new Uint8Array(Math.max(end, file.data.length * 2));
    grown.set(file.data.subarray(0, file.size));
    file.data = grown;
  }
  file.data.set(data, position);
  file.size = Math.max(file.size, end);
}
