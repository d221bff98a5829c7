// The core of hashing a file's content: filled read buffers in, a Content out. The main
// thread chunks (src/fs/chunker.ts) while a worker thread hashes (src/fs/hash-worker.ts);
// the first OFFLOAD_MIN bytes are hashed in-process, so small files never wait on the
// worker. Read buffers are slots of the wasm memory or recycled ArrayBuffers, so memory is
// a few buffers whatever the file size. hasher.ts feeds it from streams and files.
import { createHash, type Hash } from 'node:crypto';
import type { Block, Content } from '../proto/types.ts';
import { Chunker, type ChunkParams, DEFAULT_CHUNK_PARAMS } from './chunker.ts';
import { HashWorkerError, WorkerStream } from './hash-worker.ts';
import { fastHash, releaseSlot, SLOT_BYTES, sharedMemory, takeSlot } from './wasm/gear.ts';

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

export interface HashOptions {
  params?: ChunkParams;
  inlineMax?: number;
  /**
   * Hash large files on the worker thread (default true). false keeps everything in-process
   * and on microtasks only, e.g. for a deterministic simulation; results are identical.
   */
  offload?: boolean;
  /**
   * Also take each block's XXH64 (Pipeline.fastHashes) where the block lies whole in one
   * read buffer of the wasm memory: the prints a later rehash works from (rehash.ts).
   */
  prints?: boolean;
}

export class ChangedWhileReadingError extends Error {
  readonly code = 'ERR_CHANGED_WHILE_READING';
  constructor(readonly path: string) {
    super(`${path}: changed while being read`);
  }
}

const NO_HASH_YET = new Uint8Array(0);

/** Content digest: SHA-256 over the concatenated block hashes (SHA-256 of nothing for none). */
export function digestOf(blocks: Block[]): Uint8Array {
  const h = createHash('sha256');
  for (let i = 0; i < blocks.length; i++) h.update(blocks[i]!.hash); // (no iterator result per block)
  return h.digest();
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
export const release = (buf: Uint8Array) => {
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
export class Pipeline {
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
  /** XXH64 per block (null: not taken), with opts.prints. */
  private readonly fast: (bigint | null)[] | null;

  constructor(opts: HashOptions = {}) {
    this.chunker = new Chunker(opts.params ?? DEFAULT_CHUNK_PARAMS);
    this.inlineMax = opts.inlineMax ?? INLINE_MAX;
    this.offload = opts.offload ?? true;
    if (!Number.isSafeInteger(this.inlineMax) || this.inlineMax < 0 || this.inlineMax > READ_BUFFER) {
      throw new RangeError(`inlineMax must be an integer in [0, ${READ_BUFFER}]`);
    }
    this.inline = new Uint8Array(this.inlineMax + 1);
    this.fast = opts.prints ? [] : null;
  }

  /** Each block's XXH64 where taken (after finish(); empty without opts.prints). */
  fastHashes(): readonly (bigint | null)[] {
    return this.fast ?? [];
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
      if (closing) {
        if (this.fast) {
          // Taken where the block is hashed (the worker's come in finish()), in place. A
          // block begun in an earlier buffer, or in a buffer outside the wasm memory
          // (copying it there would cost more than it saves), gets none.
          const from = this.openStart() - base;
          const here = !this.openRemote && from >= 0 && buf.buffer === sharedMemory;
          this.fast.push(here ? fastHash(data, from, end) : null);
        }
        this.close(base + end);
      }
      start = end;
    }
    if (segs.length === 0) {
      release(buf);
      return;
    }
    try {
      this.remote ??= new WorkerStream(recycle, this.fast !== null);
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
      this.fast?.push(null);
      this.close(this.size);
    }
    if (this.remote) {
      const hashes = await this.remote.hashes();
      if (hashes.length !== this.remoteBlocks.length) throw new HashWorkerError('hash worker lost blocks');
      const fast = this.remote.fastHashes();
      this.remoteBlocks.forEach((b, i) => {
        this.blocks[b]!.hash = hashes[i]!;
        if (this.fast) this.fast[b] = fast[i] ?? null;
      });
    }
    const inlineData =
      this.size <= this.inlineMax ? Uint8Array.from(this.inline.subarray(0, this.size)) : new Uint8Array(0);
    return { size: this.size, digest: digestOf(this.blocks), blocks: this.blocks, inlineData };
  }

  abort(): void {
    this.remote?.close();
  }

  /** Stream offset where the open block began. */
  private openStart(): number {
    const prev = this.blocks.at(-1);
    return prev ? prev.offset + prev.length : 0;
  }

  /** End the open block at stream offset `end`; its hash now if it was hashed here. */
  private close(end: number): void {
    const offset = this.openStart();
    let hash = NO_HASH_YET; // the worker's hash replaces it in finish()
    if (!this.openRemote) {
      hash = (this.open ?? createHash('sha256')).digest();
      this.open = null;
    }
    this.blocks.push({ offset, length: end - offset, hash });
  }
}
