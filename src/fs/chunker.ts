// FastCDC content-defined chunking (Xia et al., 2016/2020): a gear rolling hash proposes cut
// points where (h & mask) == 0. Normalized chunking uses a harder mask (more bits) before
// `avg` bytes and an easier one after, which pulls block sizes towards avg; the first `min`
// bytes of a block are skipped unhashed (a cut there is not allowed anyway), and a block
// never exceeds `max`. Cut points depend only on the bytes since the previous cut, so they
// are the same however the input is split into buffers, and an edit moves only nearby cuts.
// The gear table and these rules are part of the protocol: peers must cut identically.
import { gearScan, SCAN_WINDOW } from './wasm/gear.ts';

export interface ChunkParams {
  /** No cut before this many bytes into a block (they are not even hashed). */
  min: number;
  /** Where the mask switches from hard to easy; a power of two. Mean block size is ~1.2x this. */
  avg: number;
  /** A block is cut here if no cut point was found. */
  max: number;
}

/** Chosen by measurement: see bench/notes/chunking.md. */
export const DEFAULT_CHUNK_PARAMS: ChunkParams = Object.freeze({
  min: 16 * 1024,
  avg: 64 * 1024,
  max: 256 * 1024,
});

export class ChunkParamsError extends Error {
  readonly code = 'ERR_CHUNK_PARAMS';
}

/** Upper bound for params.max: bounds the memory a block costs while it is hashed. */
export const MAX_BLOCK = 16 << 20;

/** The mask with `bits` one-bits ending at bit 30 (high bits mix the most input bytes). */
function topMask(bits: number): number {
  return (((1 << bits) - 1) << (31 - bits)) | 0;
}

export function checkParams(p: ChunkParams): void {
  const ok =
    Number.isInteger(p.min) &&
    Number.isInteger(p.max) &&
    Number.isInteger(p.avg) &&
    p.min >= 64 &&
    p.min < p.avg &&
    p.avg < p.max &&
    p.max <= MAX_BLOCK &&
    p.avg >= 256 &&
    (p.avg & (p.avg - 1)) === 0;
  if (!ok) throw new ChunkParamsError(`bad chunk params ${JSON.stringify(p)}`);
}

/**
 * Incremental chunker: push() buffers in order, it returns the stream offsets where blocks
 * end; finish() closes the last block. Offsets are absolute (from the start of the stream).
 */
export class Chunker {
  readonly params: ChunkParams;
  private readonly maskS: number;
  private readonly maskL: number;
  /** Stream offset of the start of the current block. */
  private blockStart = 0;
  /** Bytes of the current block seen so far. */
  private pos = 0;
  private h = 0;

  constructor(params: ChunkParams = DEFAULT_CHUNK_PARAMS) {
    checkParams(params);
    this.params = params;
    const bits = Math.log2(params.avg);
    // Normalization level 1: half as likely to cut before avg, twice as likely after. Level 2
    // gives tighter sizes but resynchronises worse after an edit (bench/notes/chunking.md).
    this.maskS = topMask(bits + 1);
    this.maskL = topMask(bits - 1);
  }

  /** Feed the next bytes; returns the stream offsets of the block ends found in them. */
  push(data: Uint8Array): number[] {
    const { min, avg, max } = this.params;
    const cuts: number[] = [];
    let i = 0;
    while (i < data.length) {
      const room = data.length - i;
      if (this.pos < min) {
        const k = Math.min(min - this.pos, room);
        this.pos += k;
        i += k;
        continue;
      }
      const hard = this.pos < avg;
      const k = Math.min((hard ? avg : max) - this.pos, room, SCAN_WINDOW);
      const r = gearScan(data, i, i + k, this.h, hard ? this.maskS : this.maskL);
      const took = r.cut >= 0 ? r.cut : k;
      this.h = r.h;
      this.pos += took;
      i += took;
      if (r.cut >= 0 || this.pos === max) cuts.push(this.cut());
    }
    return cuts;
  }

  /** End of input: the offset of the last block's end, if a block is open. */
  finish(): number[] {
    return this.pos > 0 ? [this.cut()] : [];
  }

  private cut(): number {
    this.blockStart += this.pos;
    this.pos = 0;
    this.h = 0;
    return this.blockStart;
  }
}

/** Block boundaries of a whole buffer (convenience for tests and small inputs). */
export function chunkAll(data: Uint8Array, params: ChunkParams = DEFAULT_CHUNK_PARAMS): number[] {
  const c = new Chunker(params);
  return [...c.push(data), ...c.finish()];
}
