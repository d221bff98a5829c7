// A long block list sent as a patch against one the peer already holds: the blocks the two
// lists share at their start and at their end are named by count, and only the blocks in
// between travel. Every operation that writes a file carries its whole block list (~40
// bytes a block), so without this a 1 MiB edit in the middle of a 512 MiB file sent 255 KiB
// of list besides its ~1.1 MiB of new blocks, and any edit of a 2 GiB file 1 MiB of it.
// Pure functions; the receiver still checks the rebuilt list (tiling, digest) like any other.
import type { Block } from '../proto/types.ts';

/** A patch is used only when the lists share at least this many blocks. */
export const PATCH_MIN_SHARED = 32;

export interface BlockPatch {
  /** Leading blocks of the base list, unchanged. */
  head: number;
  /** Trailing blocks of the base list, moved by the change in size. */
  tail: number;
  /** The blocks between them. */
  middle: Block[];
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The patch that turns `base` (of a file of baseSize bytes) into `next`, or null if not worth it. */
export function makePatch(
  base: Block[],
  baseSize: number,
  next: Block[],
  nextSize: number,
): BlockPatch | null {
  const most = Math.min(base.length, next.length);
  let head = 0;
  while (head < most) {
    const b = base[head]!;
    const n = next[head]!;
    if (n.offset !== b.offset || n.length !== b.length || !sameHash(n.hash, b.hash)) break;
    head++;
  }
  const shift = nextSize - baseSize;
  let tail = 0;
  while (head + tail < most) {
    const b = base[base.length - 1 - tail]!;
    const n = next[next.length - 1 - tail]!;
    if (n.offset !== b.offset + shift || n.length !== b.length || !sameHash(n.hash, b.hash)) break;
    tail++;
  }
  if (head + tail < PATCH_MIN_SHARED) return null;
  return { head, tail, middle: next.slice(head, next.length - tail) };
}

/**
 * The list a patch stands for, or why it cannot be applied. Tiling and the digest are for
 * the caller to check, as for a list that came whole.
 */
export function applyPatch(
  base: Block[],
  baseSize: number,
  patch: BlockPatch,
  nextSize: number,
): Block[] | string {
  const { head, tail, middle } = patch;
  const counts = [head, tail].every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!counts || head + tail > base.length)
    return `patch keeps ${head}+${tail} of a base of ${base.length} blocks`;
  const shift = nextSize - baseSize;
  const moved = base
    .slice(base.length - tail)
    .map((b) => ({ offset: b.offset + shift, length: b.length, hash: b.hash }));
  return [...base.slice(0, head), ...middle, ...moved];
}
