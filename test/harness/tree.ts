// Snapshots of a folder's contents, to check that replicas converged: relative path ->
// type, size, content hash, permission bits and symlink target. Symlinks are recorded,
// never followed. Hashing runs a few files at a time, enough for thousands of files.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeEntry {
  type: 'file' | 'dir' | 'link';
  /** Bytes for files, 0 for folders, target length for symlinks. */
  size: number;
  /** Hex SHA-256 of a file's content. */
  sha256?: string;
  /** Permission bits (mode & 0o777). */
  mode: number;
  /** A symlink's target, as stored. */
  link?: string;
}

/** Relative path ("a/b.txt", always '/') -> entry, in sorted path order. */
export type Tree = Map<string, TreeEntry>;

export interface SnapshotOptions {
  /**
   * Entries to leave out, with everything below them: a string matches any path segment
   * (a name, at any depth), a RegExp is tested against the relative path.
   */
  ignore?: (string | RegExp)[];
}

const HASH_CONCURRENCY = 16;

const SMALL = 1 << 20;

async function hashFile(path: string, size: number): Promise<string> {
  // One read for small files; a stream keeps big ones (benchmarks) out of memory.
  if (size <= SMALL)
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

function ignored(rel: string, name: string, ignore: (string | RegExp)[]): boolean {
  return ignore.some((p) => (typeof p === 'string' ? p === name : p.test(rel)));
}

/** A rejection handler: ENOENT gives `value`, anything else is rethrown. */
function ifGone<T>(value: T): (err: unknown) => T {
  return (err) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return value;
    throw err;
  };
}

export async function snapshotTree(dir: string, opts: SnapshotOptions = {}): Promise<Tree> {
  const ignore = opts.ignore ?? ['.resonate'];
  const found: [string, TreeEntry][] = [];
  const toHash: { rel: string; entry: TreeEntry }[] = [];
  const walk = async (abs: string, prefix: string): Promise<void> => {
    // A live daemon may remove an entry (a temp file, say) between readdir and lstat: an
    // entry gone by then is not in the snapshot, as it would not be a moment later.
    const names = (await readdir(abs).catch(ifGone([]))).filter(
      (name) => !ignored(prefix ? `${prefix}/${name}` : name, name, ignore),
    );
    // lstat a folder's entries together: a serial walk is several times slower.
    const stats = await Promise.all(names.map((name) => lstat(join(abs, name)).catch(ifGone(null))));
    const subdirs: Promise<void>[] = [];
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      const st = stats[k];
      if (!st) continue;
      const rel = prefix ? `${prefix}/${name}` : name;
      const p = join(abs, name);
      const mode = st.mode & 0o777;
      if (st.isSymbolicLink()) {
        const link = await readlink(p).catch(ifGone(null));
        if (link === null) continue;
        found.push([rel, { type: 'link', size: Buffer.byteLength(link), mode, link }]);
      } else if (st.isDirectory()) {
        found.push([rel, { type: 'dir', size: 0, mode }]);
        subdirs.push(walk(p, rel));
      } else if (st.isFile()) {
        const entry: TreeEntry = { type: 'file', size: st.size, mode };
        found.push([rel, entry]);
        toHash.push({ rel, entry });
      }
      // Sockets, fifos and devices are not synced; leave them out.
    }
    await Promise.all(subdirs);
  };
  await walk(dir, '');
  let next = 0;
  const worker = async () => {
    while (next < toHash.length) {
      const item = toHash[next++]!;
      // A file deleted mid-snapshot (a live daemon) shows up as a missing hash, not a crash.
      item.entry.sha256 = await hashFile(join(dir, item.rel), item.entry.size).catch(() => 'unreadable');
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(found);
}

export interface DiffOptions {
  /** Permission bits to compare (default 0o777; 0o111 for "exec bits only", 0 to ignore). */
  modeMask?: number;
  /** Names of the two sides in messages (default 'a', 'b'). */
  names?: [string, string];
}

function describe(e: TreeEntry): string {
  if (e.type === 'file')
    return `file ${e.size} B sha256 ${e.sha256?.slice(0, 12)} mode ${e.mode.toString(8)}`;
  if (e.type === 'link') return `link -> ${e.link}`;
  return `dir mode ${e.mode.toString(8)}`;
}

/** Human-readable differences between two snapshots, one line each; empty if identical. */
export function diffTrees(a: Tree, b: Tree, opts: DiffOptions = {}): string[] {
  const mask = opts.modeMask ?? 0o777;
  const [na, nb] = opts.names ?? ['a', 'b'];
  const out: string[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const p of paths) {
    const x = a.get(p);
    const y = b.get(p);
    if (!x) {
      out.push(`${p}: only in ${nb} (${describe(y!)})`);
      continue;
    }
    if (!y) {
      out.push(`${p}: only in ${na} (${describe(x)})`);
      continue;
    }
    if (x.type !== y.type) {
      out.push(`${p}: ${na} has ${describe(x)}, ${nb} has ${describe(y)}`);
      continue;
    }
    const why: string[] = [];
    if (x.type === 'file') {
      if (x.size !== y.size) why.push(`size ${x.size} != ${y.size}`);
      else if (x.sha256 !== y.sha256)
        why.push(`content ${x.sha256?.slice(0, 12)} != ${y.sha256?.slice(0, 12)}`);
    }
    if (x.type === 'link' && x.link !== y.link) why.push(`target ${x.link} != ${y.link}`);
    // Symlink permission bits are meaningless on Linux; compare only files' and folders'.
    if (x.type !== 'link' && (x.mode & mask) !== (y.mode & mask)) {
      why.push(`mode ${(x.mode & mask).toString(8)} != ${(y.mode & mask).toString(8)}`);
    }
    if (why.length > 0) out.push(`${p}: ${why.join(', ')} (${na} vs ${nb})`);
  }
  return out;
}

export function treesEqual(a: Tree, b: Tree, opts: DiffOptions = {}): boolean {
  return diffTrees(a, b, opts).length === 0;
}
