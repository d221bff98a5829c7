// File content → Content: content-defined blocks (src/fs/chunker.ts), the SHA-256 of each,
// and the digest over the block hashes. Streaming: memory is a few read buffers whatever the
// file size. The main thread chunks while a worker thread hashes (src/fs/hash-worker.ts);
// the first OFFLOAD_MIN bytes are hashed in-process, so small files never wait on the worker.
import { createHash, type Hash } from 'node:crypto';
import type { Block, Content } from '../proto/types.ts';
import { Chunker, type ChunkParams, DEFAULT_CHUNK_PARAMS } from './chunker.ts';
import { HashWorkerError, WorkerStream } from './hash-worker.ts';
import type { FileSystem, ReadHandle, SmallFile, Stat } from './types.ts';
import { releaseSlot, SLOT_BYTES, sharedMemory, takeSlot } from './wasm/gear.ts';

/** Files up to this size also carry their bytes in Content.inlineData. */
export const INLINE_MAX = 1024;
/** Size of the reused read buffers (bench/notes/chunking.md). */
export const READ_BUFFER = 1 << 20;
/**
 * Where file data starts in a read buffer. glibc places every allocation of 128 KiB or more
 * 16 bytes past a page boundary, and the kernel's copy into user memory (rep movsb) runs 3-4x
 * slower on AMD Zen when the destination is 16-31 bytes ahead of the page-aligned source:
 * 2 GiB read in 1 MiB pieces cost 1.2 s of system time at offset 0, 0.3 s at offset 64
 * (bench/notes/chunking.md).
 */
export const READ_SKEW = 64;
/**
 * Buffers a stream may have queued at the worker; past DEPTH - 1 the main thread hashes too.
 * Reading and chunking cost the main thread more per byte than SHA-256 costs the worker, so
 * the worker falls behind only when other work takes its core: 5 rather than 3 kept the main
 * thread from hashing on mere jitter (2 GiB start-up, interleaved: ~0.2 s sooner ready).
 */
const DEPTH = 5;
/** Below this many bytes into a stream, blocks are hashed in-process. */
export const OFFLOAD_MIN = 2 << 20;
const FREE_KEPT = 8;
/** hashFile lets the event loop run after each this many bytes (~20-30 ms of work). */
const YIELD_BYTES = 32 << 20;

export interface HashOptions {
  params?: ChunkParams;
  inlineMax?: number;
  /**
   * Hash large files on the worker thread (default true). false keeps everything in-process
   * and on microtasks only, e.g. for a deterministic simulation; results are identical.
   */
  offload?: boolean;
}

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

export class ChangedWhileReadingError extends Error {
  readonly code = 'ERR_CHANGED_WHILE_READING';
  constructor(readonly path: string) {
    super(`${path}: changed while being read`);
  }
}

const NO_HASH_YET = new Uint8Array(0);

const sha256 = (data: Uint8Array): Uint8Array => createHash('sha256').update(data).digest();

/** Content digest: SHA-256 over the concatenated block hashes (SHA-256 of nothing for none). */
export function digestOf(blocks: Block[]): Uint8Array {
  const h = createHash('sha256');
  for (let i = 0; i < blocks.length; i++) h.update(blocks[i]!.hash); // (no iterator result per block)
  return h.digest();
}

export function verifyBlock(data: Uint8Array, hash: Uint8Array): boolean {
  return hash.length === 32 && Buffer.from(sha256(data)).equals(hash);
}

// Full-size read buffers are slots of the wasm memory while there are free ones (chunked in
// place, hashed by the worker in place: wasm/gear.ts), else ArrayBuffers recycled across files.
if (READ_SKEW + READ_BUFFER > SLOT_BYTES) throw new Error('a read buffer does not fit a slot');
const free: ArrayBuffer[] = [];
/** `length` bytes of a free slot (from READ_SKEW), or null if all slots are taken. */
const slotBuffer = (length: number): Uint8Array | null => {
  const slot = takeSlot();
  return slot === null ? null : new Uint8Array(sharedMemory, slot + READ_SKEW, length);
};
const takeBuffer = (): Uint8Array =>
  slotBuffer(READ_BUFFER) ??
  new Uint8Array(free.pop() ?? new ArrayBuffer(READ_SKEW + READ_BUFFER), READ_SKEW, READ_BUFFER);
const giveBuffer = (b: ArrayBuffer) => {
  if (free.length < FREE_KEPT && b.byteLength === READ_SKEW + READ_BUFFER) free.push(b);
};
/** Where a read buffer goes once its bytes are no longer needed. */
const release = (buf: Uint8Array) => {
  if (buf.buffer === sharedMemory) releaseSlot(buf.byteOffset - READ_SKEW);
  else giveBuffer(buf.buffer as ArrayBuffer);
};
const recycle = (buf: ArrayBuffer | null, at: number) =>
  buf ? giveBuffer(buf) : releaseSlot(at - READ_SKEW);

/**
 * The core of hashStream/hashFile: takes filled buffers in order, ends with a Content.
 * Each block is hashed whole on one side: in-process (small files; the first OFFLOAD_MIN
 * bytes; and whenever the worker already has a backlog, so the main thread hashes instead of
 * waiting) or on the worker. A block that spans buffers stays on the side it started on.
 */
class Pipeline {
  private readonly chunker: Chunker;
  private readonly inlineMax: number;
  private readonly offload: boolean;
  private readonly blocks: Block[] = [];
  /** In-process state of the open block, when it is hashed here. */
  private open: Hash | null = null;
  private openRemote = false;
  private remote: WorkerStream | null = null;
  /** Indexes of the blocks the worker hashes, in order. */
  private readonly remoteBlocks: number[] = [];
  private size = 0;
  private readonly inline: Uint8Array;

  constructor(opts: HashOptions = {}) {
    this.chunker = new Chunker(opts.params ?? DEFAULT_CHUNK_PARAMS);
    this.inlineMax = opts.inlineMax ?? INLINE_MAX;
    this.offload = opts.offload ?? true;
    if (!Number.isSafeInteger(this.inlineMax) || this.inlineMax < 0 || this.inlineMax > READ_BUFFER) {
      throw new RangeError(`inlineMax must be an integer in [0, ${READ_BUFFER}]`);
    }
    this.inline = new Uint8Array(this.inlineMax + 1);
  }

  /**
   * A buffer to fill and then pass to push(); may wait for the worker to return one. Up to
   * `want` bytes are needed: less than READ_BUFFER gets a buffer of its own that size.
   */
  async acquire(want = READ_BUFFER): Promise<Uint8Array> {
    if (want < READ_BUFFER) {
      // Bytes past the chunker's minimum are scanned: read them into a slot of the wasm
      // memory if one is free. Copied there instead, they cost ~3x more to chunk (copies
      // into the shared memory run at well under 1 GB/s here).
      const slot = want > this.chunker.params.min ? slotBuffer(want) : null;
      return slot ?? new Uint8Array(new ArrayBuffer(READ_SKEW + want), READ_SKEW, want);
    }
    if (this.remote) await this.remote.drain(DEPTH);
    return takeBuffer();
  }

  /** Bytes [0, len) of an acquired buffer, which push() now owns. */
  push(buf: Uint8Array, len: number): void {
    const base = this.size;
    const data = buf.subarray(0, len);
    const ends = this.chunker.push(data).map((e) => e - base);
    if (this.size < this.inline.length)
      this.inline.set(data.subarray(0, this.inline.length - this.size), base);
    this.size += len;
    // Blocks starting in this buffer go to the worker unless it is still busy.
    const toWorker = this.offload && (this.remote?.pending ?? 0) < DEPTH - 1;
    const segs: number[] = [];
    let closes = 0;
    let start = 0;
    for (let i = 0; i <= ends.length; i++) {
      const end = i < ends.length ? ends[i]! : len;
      const closing = i < ends.length;
      if (i > 0) this.openRemote = toWorker && base + start >= OFFLOAD_MIN;
      if (this.openRemote) {
        if (end > start || closing) segs.push(start, end, closing ? 1 : 0);
        if (closing) {
          this.remoteBlocks.push(this.blocks.length);
          closes++;
        }
      } else {
        this.open ??= createHash('sha256');
        this.open.update(data.subarray(start, end));
      }
      if (closing) this.close(base + end);
      start = end;
    }
    if (segs.length === 0) {
      release(buf);
      return;
    }
    try {
      this.remote ??= new WorkerStream(recycle);
      this.remote.send(buf.buffer as ArrayBuffer, buf.byteOffset, segs, closes);
    } catch (e) {
      release(buf);
      throw e;
    }
  }

  async finish(): Promise<Content> {
    if (this.chunker.finish().length > 0) {
      if (this.openRemote) {
        this.remoteBlocks.push(this.blocks.length);
        this.remote!.send(new ArrayBuffer(0), 0, [0, 0, 1], 1);
      }
      this.close(this.size);
    }
    if (this.remote) {
      const hashes = await this.remote.hashes();
      if (hashes.length !== this.remoteBlocks.length) throw new HashWorkerError('hash worker lost blocks');
      this.remoteBlocks.forEach((b, i) => {
        this.blocks[b]!.hash = hashes[i]!;
      });
    }
    const inlineData =
      this.size <= this.inlineMax ? Uint8Array.from(this.inline.subarray(0, this.size)) : new Uint8Array(0);
    return { size: this.size, digest: digestOf(this.blocks), blocks: this.blocks, inlineData };
  }

  abort(): void {
    this.remote?.close();
  }

  /** End the open block at stream offset `end`; its hash now if it was hashed here. */
  private close(end: number): void {
    const prev = this.blocks.at(-1);
    const offset = prev ? prev.offset + prev.length : 0;
    let hash = NO_HASH_YET; // the worker's hash replaces it in finish()
    if (!this.openRemote) {
      hash = (this.open ?? createHash('sha256')).digest();
      this.open = null;
    }
    this.blocks.push({ offset, length: end - offset, hash });
  }
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

/**
 * Hash a file through the FileSystem, reading ahead one buffer while the previous one is
 * chunked. Throws ChangedWhileReadingError if size, mtime or ctime moved during the read (or
 * the bytes read disagree with the size): the caller retries later. Returns the stat at open.
 */
export async function hashFile(
  fs: FileSystem,
  path: string,
  opts?: HashOptions,
): Promise<{ content: Content; stat: Stat }> {
  const p = new Pipeline(opts); // first: bad options must not leak an open handle
  const handle = await fs.openRead(path);
  let stat: Stat | null = null;
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
    stat = await handle.stat();
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
    return { content, stat };
  } catch (e) {
    p.abort();
    // A read-ahead still running: its outcome no longer matters, its buffer does.
    next?.then(({ buf }) => release(buf)).catch(() => {});
    throw e;
  } finally {
    await handle.close();
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
