// What an earlier reading of a large file found, kept so that the next change to it need not
// be hashed in full (rehash.ts): each block's length and SHA-256 as in its Content, plus a
// fast XXH64 of the same bytes. Any genuine earlier reading of the path will do, whatever
// the index says now: a block is reused only where the bytes found now have its XXH64, and
// those bytes then are the block whose SHA-256 was taken from them.
import type { Content } from '../proto/types.ts';

/** Files below this size are hashed in full: the fast path is for the large ones. */
export const PRINTS_MIN = 16 << 20;

export interface BlockPrints {
  size: number;
  lengths: Uint32Array;
  /** 32 bytes per block. */
  hashes: Uint8Array;
  fast: BigUint64Array;
  /** 1 where fast[i] is known (a block that spanned two read buffers has none). */
  known: Uint8Array;
}

/** Prints of a Content, given the XXH64 of each block (null: not known). */
export function printsOf(content: Content, fast: readonly (bigint | null)[]): BlockPrints {
  const n = content.blocks.length;
  const p: BlockPrints = {
    size: content.size,
    lengths: new Uint32Array(n),
    hashes: new Uint8Array(32 * n),
    fast: new BigUint64Array(n),
    known: new Uint8Array(n),
  };
  content.blocks.forEach((b, i) => {
    p.lengths[i] = b.length;
    p.hashes.set(b.hash, 32 * i);
    const f = fast[i];
    if (f !== null && f !== undefined) {
      p.fast[i] = f;
      p.known[i] = 1;
    }
  });
  return p;
}

/** Blocks' worth of prints kept per folder (~44 bytes each: ~2.5 GiB of files in ~1.4 MiB). */
const KEPT_BLOCKS = 32_768;
/** What remembering that a path was read (without prints) counts for against that bound. */
const SEEN_WEIGHT = 8;

const weight = (p: BlockPrints | null) => (p ? p.lengths.length : SEEN_WEIGHT);

/**
 * Per path, the prints of the large file last read there, or only that one was read there
 * (null): its next reading takes prints, since a file changed once will likely change again.
 * A first reading takes none (most large files, videos or archives, never change, and the
 * XXH64 beside SHA-256 slowed the hashing of a 1 GiB file by ~10% here). Least recently
 * used dropped first.
 */
export class PrintsCache {
  private readonly byPath = new Map<string, BlockPrints | null>();
  private weight = 0;

  constructor(private readonly maxBlocks = KEPT_BLOCKS) {}

  /** The prints of the last reading of path, null if it was read without, else undefined. */
  get(path: string): BlockPrints | null | undefined {
    const p = this.byPath.get(path);
    if (p !== undefined) {
      this.byPath.delete(path);
      this.byPath.set(path, p);
    }
    return p;
  }

  /** Remember the last reading of path: its prints, or null (read, none taken). */
  set(path: string, prints: BlockPrints | null): void {
    this.delete(path);
    if (weight(prints) > this.maxBlocks) return;
    this.byPath.set(path, prints);
    this.weight += weight(prints);
    for (const [old, p] of this.byPath) {
      if (this.weight <= this.maxBlocks) break;
      this.byPath.delete(old);
      this.weight -= weight(p);
    }
  }

  delete(path: string): void {
    const p = this.byPath.get(path);
    if (p === undefined) return;
    this.byPath.delete(path);
    this.weight -= weight(p);
  }

  get size(): number {
    return this.byPath.size;
  }
}
