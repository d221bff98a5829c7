// Re-hashing a large file after a change, with the prints of an earlier reading of it
// (block-prints.ts): an edit leaves most blocks as they were, where they were or shifted by
// the change in size, and a full hash of 512 MiB (chunking and SHA-256, ~0.3 s of both
// cores here) is then mostly spent finding the same blocks again.
//
// Walk the new file from its start, always standing at a cut. If an old block starts at
// this position (or at this position less the change in size) and the bytes here have its
// XXH64 (~10 GB/s), they are that block: the chunker would cut exactly where it ended, since
// a cut depends only on the bytes since the previous cut. Its SHA-256 is reused. Otherwise
// one block is chunked and hashed here, and the walk goes on from its end, where the cuts
// meet the old ones again shortly after an edit. An old last block ended at the old end of
// the file rather than at a cut, so it is reused only where it ends the new file too.
// The result is the Content a full hash gives (tests compare them on random edits), but for
// an XXH64 collision between a changed block and the block that was there (2^-64 per block).
import { createHash } from 'node:crypto';
import type { Block, Content } from '../proto/types.ts';
import type { BlockPrints } from './block-prints.ts';
import { Chunker, type ChunkParams, DEFAULT_CHUNK_PARAMS } from './chunker.ts';
import { ChangedWhileReadingError, digestOf, READ_BUFFER, READ_SKEW } from './hash-pipeline.ts';
import type { ReadHandle } from './types.ts';
import { fastHash, releaseSlot, sharedMemory, takeSlot } from './wasm/gear.ts';

/** Lets the event loop run after each this many bytes (as hashFile does). */
const YIELD_BYTES = 32 << 20;

/** Too much of the file is new: a full hash (pipelined with the worker) is faster. */
export class RehashGaveUpError extends Error {
  readonly code = 'ERR_REHASH_GAVE_UP';
  constructor(readonly path: string) {
    super(`${path}: mostly new content, hashed in full`);
  }
}

/** Whether rehash() can work with these chunking parameters (a block must fit its window). */
export function canRehash(params: ChunkParams = DEFAULT_CHUNK_PARAMS): boolean {
  return params.max <= READ_BUFFER / 2;
}

export interface Rehashed {
  content: Content;
  /** XXH64 of each block (all known: every block here lay whole in the window). */
  fast: bigint[];
  /** Bytes of old blocks found again (the rest was chunked and hashed). */
  reused: number;
}

/**
 * The Content of the `size` bytes behind `handle`, reusing the blocks of `prior` that are
 * still there. The caller compares the file's stat before and after.
 */
export async function rehash(
  handle: ReadHandle,
  path: string,
  size: number,
  prior: BlockPrints,
  params: ChunkParams = DEFAULT_CHUNK_PARAMS,
): Promise<Rehashed> {
  if (!canRehash(params)) throw new RangeError('rehash: blocks larger than half a read buffer');
  const n = prior.lengths.length;
  const starts = new Map<number, number>();
  for (let i = 0, at = 0; i < n; at += prior.lengths[i]!, i++) starts.set(at, i);
  const shifts = size === prior.size ? [0] : [0, size - prior.size];
  const giveUpAt = Math.max(16 << 20, size / 8);

  const slot = takeSlot();
  const win =
    slot === null ? new Uint8Array(READ_BUFFER) : new Uint8Array(sharedMemory, slot + READ_SKEW, READ_BUFFER);
  let winStart = 0;
  let winEnd = 0;
  /** Bytes [pos, pos + len) into the window (len <= half of it). */
  const have = async (pos: number, len: number) => {
    if (pos >= winStart && pos + len <= winEnd) return;
    const want = Math.min(READ_BUFFER, size - pos);
    for (let got = 0; got < want; ) {
      const r = await handle.read(win, got, want - got, pos + got);
      if (r === 0) throw new ChangedWhileReadingError(path);
      got += r;
    }
    winStart = pos;
    winEnd = pos + want;
  };

  /** The old block standing at pos (shifted or not) with the bytes here, or -1. */
  const oldBlockAt = async (pos: number): Promise<number> => {
    for (const shift of shifts) {
      const i = starts.get(pos - shift);
      if (i === undefined || prior.known[i] !== 1) continue;
      const len = prior.lengths[i]!;
      const end = pos + len;
      if (len > READ_BUFFER / 2 || end > size || (i === n - 1 && end !== size)) continue;
      await have(pos, len);
      if (fastHash(win, pos - winStart, end - winStart) === prior.fast[i]) return i;
    }
    return -1;
  };

  const blocks: Block[] = [];
  const fast: bigint[] = [];
  let pos = 0;
  let fresh = 0;
  let yieldedAt = 0;
  try {
    while (pos < size) {
      const i = await oldBlockAt(pos);
      if (i >= 0) {
        const len = prior.lengths[i]!;
        blocks.push({ offset: pos, length: len, hash: prior.hashes.subarray(32 * i, 32 * i + 32) });
        fast.push(prior.fast[i]!);
        pos += len;
      } else {
        // One block from here, chunked and hashed (it ends within max bytes, or at the end).
        const take = Math.min(params.max, size - pos);
        await have(pos, take);
        const at = pos - winStart;
        const len = new Chunker(params).push(win.subarray(at, at + take))[0] ?? take;
        const hash = createHash('sha256')
          .update(win.subarray(at, at + len))
          .digest();
        blocks.push({ offset: pos, length: len, hash });
        fast.push(fastHash(win, at, at + len));
        pos += len;
        fresh += len;
        if (fresh > giveUpAt) throw new RehashGaveUpError(path);
      }
      // Reads from the page cache never leave the microtask queue: let timers and peers in.
      if (pos - yieldedAt >= YIELD_BYTES) {
        yieldedAt = pos;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    if (slot !== null) releaseSlot(slot);
  }
  const content = { size, digest: digestOf(blocks), blocks, inlineData: new Uint8Array(0) };
  return { content, fast, reused: size - fresh };
}
