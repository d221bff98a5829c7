// File content → Content: content-defined blocks (src/fs/chunker.ts), the SHA-256 of each,
// and the digest over the block hashes, from a byte stream or a file (hash-pipeline.ts does
// the chunking and hashing). Streaming: memory is a few read buffers whatever the file size.
import { createHash } from 'node:crypto';
import type { Content } from '../proto/types.ts';
import { PRINTS_MIN, PrintsCache, printsOf } from './block-prints.ts';
import { DEFAULT_CHUNK_PARAMS } from './chunker.ts';
import { ChangedWhileReadingError, type HashOptions, Pipeline, release } from './hash-pipeline.ts';
import { canRehash, RehashGaveUpError, rehash } from './rehash.ts';
import type { FileSystem, ReadHandle, SmallFile, Stat } from './types.ts';

export { ChangedWhileReadingError };

/** hashFile lets the event loop run after each this many bytes (~20-30 ms of work). */
const YIELD_BYTES = 32 << 20;

/**
 * Files of at most this many bytes are one block under the default chunking: what
 * FileSystem.readSmall reads and hashes in batches (smallContent makes their Content).
 */
export const SMALL_FILE_MAX = DEFAULT_CHUNK_PARAMS.min;

/** The Content of a file readSmall read (default chunking and INLINE_MAX). */
export function smallContent(f: SmallFile): Content {
  const size = f.stat.size;
  const blocks = size > 0 ? [{ offset: 0, length: size, hash: f.hash }] : [];
  return { size, digest: f.digest, blocks, inlineData: f.inline };
}

const sha256 = (data: Uint8Array): Uint8Array => createHash('sha256').update(data).digest();

export function verifyBlock(data: Uint8Array, hash: Uint8Array): boolean {
  return hash.length === 32 && Buffer.from(sha256(data)).equals(hash);
}

/** Chunk and hash a byte stream. Items may be any size; they are copied, not retained. */
export async function hashStream(source: AsyncIterable<Uint8Array>, opts?: HashOptions): Promise<Content> {
  const p = new Pipeline(opts);
  /** The buffer being filled; push() owns a buffer once handed it. */
  let held: Uint8Array | null = null;
  try {
    let buf = await p.acquire();
    held = buf;
    let fill = 0;
    for await (const item of source) {
      for (let off = 0; off < item.length; ) {
        const n = Math.min(buf.length - fill, item.length - off);
        buf.set(item.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === buf.length) {
          held = null;
          p.push(buf, fill);
          buf = await p.acquire();
          held = buf;
          fill = 0;
        }
      }
    }
    held = null;
    if (fill > 0) p.push(buf, fill);
    else release(buf);
    return await p.finish();
  } catch (e) {
    if (held) release(held);
    p.abort();
    throw e;
  }
}

const sameFile = (a: Stat, b: Stat) =>
  a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** The prints of the large files read through each FileSystem (one per synced folder). */
const printsByFs = new WeakMap<FileSystem, PrintsCache>();

export function printsCacheOf(fs: FileSystem): PrintsCache {
  let cache = printsByFs.get(fs);
  if (!cache) {
    cache = new PrintsCache();
    printsByFs.set(fs, cache);
  }
  return cache;
}

/**
 * A file we put in place ourselves (the file writer) counts as read once: its first local
 * change then takes prints, and the next one is re-hashed from them. Prints it already has
 * stay (any genuine earlier reading will do).
 */
export function countAsRead(fs: FileSystem, path: string, size: number): void {
  const prints = printsCacheOf(fs);
  if (size >= PRINTS_MIN && prints.get(path) === undefined) prints.set(path, null);
}

/**
 * Hash a file through the FileSystem. A large file read before is re-hashed from the prints
 * of that reading (rehash.ts) unless most of it is new; otherwise (and then) read ahead one
 * buffer while the previous one is chunked, taking prints if the path was read before.
 * Throws ChangedWhileReadingError if size, mtime or ctime moved during the read (or the
 * bytes read disagree with the size): the caller retries later. Returns the stat at open,
 * and how many bytes were found in old blocks.
 */
export async function hashFile(
  fs: FileSystem,
  path: string,
  opts?: HashOptions,
): Promise<{ content: Content; stat: Stat; reused: number }> {
  const params = opts?.params ?? DEFAULT_CHUNK_PARAMS;
  const prints = printsCacheOf(fs);
  const handle = await fs.openRead(path);
  try {
    const stat = await handle.stat();
    const large = stat.size >= PRINTS_MIN && canRehash(params);
    const prior = large ? prints.get(path) : undefined;
    if (prior) {
      try {
        const r = await rehash(handle, path, stat.size, prior, params);
        if (!sameFile(stat, await handle.stat())) throw new ChangedWhileReadingError(path);
        prints.set(path, printsOf(r.content, r.fast));
        return { content: r.content, stat, reused: r.reused };
      } catch (e) {
        if (!(e instanceof RehashGaveUpError)) throw e;
      }
    }
    // Prints from the second reading of a path on (block-prints.ts).
    const take = large && prior !== undefined;
    const p = new Pipeline({ ...opts, prints: take });
    const content = await hashOpen(handle, path, stat, p);
    if (large) prints.set(path, take ? printsOf(content, p.fastHashes()) : null);
    return { content, stat, reused: 0 };
  } finally {
    await handle.close();
  }
}

/** The pipelined full hash of an open file whose stat at open is `stat`. */
async function hashOpen(handle: ReadHandle, path: string, stat: Stat, p: Pipeline): Promise<Content> {
  // A buffer for what is left by the size at open, plus a byte to notice growth: most files
  // are small, and a 1 MiB buffer each (zeroed, so touched) raised a 5,000-file burst's peak
  // RSS on the sender (with the read cache's fix: 149-168 MiB against 176-179 MiB).
  const readAt = async (at: number) => {
    const buf = await p.acquire(Math.max(0, stat!.size - at) + 1);
    try {
      return { buf, n: await handle.read(buf, 0, buf.length, at) };
    } catch (e) {
      release(buf);
      throw e;
    }
  };
  let next: ReturnType<typeof readAt> | null = null;
  try {
    let pos = 0;
    let yieldedAt = 0;
    next = readAt(0);
    for (;;) {
      const { buf, n } = await next;
      next = null;
      if (n === 0) {
        release(buf);
        break;
      }
      pos += n;
      // Grown past the size at open: no point reading on (it may be growing without end).
      if (pos > stat.size) {
        release(buf);
        throw new ChangedWhileReadingError(path);
      }
      // At the size seen at open: done (growth since shows in the stat compared below).
      if (pos < stat.size) next = readAt(pos);
      p.push(buf, n);
      if (!next) break;
      // Reads served by the page cache and replies taken by poll() never leave the
      // microtask queue: without a turn of the event loop now and then, a 2 GiB file held
      // timers, peers' frames and status requests for ~2 s (a 40 GiB one would outlast the
      // keepalive).
      if (pos - yieldedAt >= YIELD_BYTES) {
        yieldedAt = pos;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const content = await p.finish();
    const after = await handle.stat();
    if (!sameFile(stat, after) || content.size !== stat.size) throw new ChangedWhileReadingError(path);
    return content;
  } catch (e) {
    p.abort();
    // A read-ahead still running: its outcome no longer matters, its buffer does.
    next?.then(({ buf }) => release(buf)).catch(() => {});
    throw e;
  }
}

/** Read `length` bytes at `offset` (fewer if the file is now shorter; check with verifyBlock). */
export async function readBlock(
  fs: FileSystem,
  path: string,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const handle: ReadHandle = await fs.openRead(path);
  try {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await handle.read(out, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? out : out.subarray(0, got);
  } finally {
    await handle.close();
  }
}
