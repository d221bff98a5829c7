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

/** The prints of the large files last read, by path, least recently used dropped first. */
export class PrintsCache {
  private readonly byPath = new Map<string, BlockPrints>();
  private blocks = 0;

  constructor(private readonly maxBlocks = KEPT_BLOCKS) {}

  get(path: string): BlockPrints | undefined {
    const p = this.byPath.get(path);
    if (p) {
      this.byPath.delete(path);
      this.byPath.set(path, p);
    }
    return p;
  }

  set(path: string, prints: BlockPrints): void {
    this.delete(path);
    if (prints.lengths.length > this.maxBlocks) return;
    this.byPath.set(path, prints);
    this.blocks += prints.lengths.length;
    for (const [old, p] of this.byPath) {
      if (this.blocks <= this.maxBlocks) break;
      this.byPath.delete(old);
      this.blocks -= p.lengths.length;
    }
  }

  delete(path: string): void {
    const p = this.byPath.get(path);
    if (!p) return;
    this.byPath.delete(path);
    this.blocks -= p.lengths.length;
  }

  get size(): number {
    return this.byPath.size;
  }
}
