// What a folder holds, as a sorted list, for convergence checks: two replicas agree iff
// their snapshots are deep-equal. Works on a MemTree directly (synchronous, for the
// simulator) or on any FileSystem (to compare a real folder with a simulated one).
import { createHash } from 'node:crypto';
import { compareUtf8, isOwnName } from '../../src/fs/paths.ts';
import type { EntryKind, FileSystem } from '../../src/fs/types.ts';
import { join, type MemDir, type MemTree } from './memfs-tree.ts';

export interface SnapshotEntry {
  path: string;
  kind: EntryKind;
  mode: number;
  /** Files: hex sha256 of the content. */
  sha256?: string;
  /** Symlinks: the link text. */
  link?: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sorted(entries: SnapshotEntry[]): SnapshotEntry[] {
  return entries.sort((a, b) => compareUtf8(a.path, b.path));
}

export function snapshotTree(tree: MemTree, includeOwn = false): SnapshotEntry[] {
  const out: SnapshotEntry[] = [];
  const walk = (dir: MemDir, prefix: string): void => {
    for (const [name, node] of dir.children) {
      const path = join(prefix, name);
      if (!includeOwn && isOwnName(path)) continue;
      const entry: SnapshotEntry = { path, kind: node.kind, mode: node.mode };
      if (node.kind === 'file') entry.sha256 = sha256(node.data.subarray(0, node.size));
      if (node.kind === 'link') entry.link = node.target;
      out.push(entry);
      if (node.kind === 'dir') walk(node, path);
    }
  };
  walk(tree.root, '');
  return sorted(out);
}

/** The same through the FileSystem interface (never following symlinks). */
export async function snapshotFs(fs: FileSystem, includeOwn = false): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const { name } of await fs.readdir(dir)) {
      const path = join(dir, name);
      if (!includeOwn && isOwnName(path)) continue;
      const st = await fs.lstat(path);
      if (st === null) continue;
      const entry: SnapshotEntry = { path, kind: st.kind, mode: st.mode };
      if (st.kind === 'file') entry.sha256 = await hashFile(fs, path);
      if (st.kind === 'link') entry.link = await fs.readlink(path);
      out.push(entry);
      if (st.kind === 'dir') await walk(path);
    }
  };
  await walk('');
  return sorted(out);
}

async function hashFile(fs: FileSystem, path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await fs.openRead(path);
  try {
    const buf = new Uint8Array(64 * 1024);
    for (let pos = 0; ; ) {
      const n = await fh.read(buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}
