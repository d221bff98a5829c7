// Which operation with a file's content one peer holds per path, so that the next operation
// writing that path can travel as a block patch against it (src/model/block-patch.ts), and
// the receiving side of that: rebuilding patched operations before they are checked.
import { sameDot } from '../clock/vector.ts';
import type { LoggedOp, Store } from '../log/store.ts';
import { applyPatch, makePatch } from '../model/block-patch.ts';
import { encodeOperation } from '../proto/codec.ts';
import type { Dot, Operation, OpPatch } from '../proto/types.ts';
import { Kind } from '../proto/types.ts';
import type { Logger } from '../util/logger.ts';
import { loggedOpReader } from './content.ts';
import { isOrigin, operationProblem } from './validate.ts';

/** Only lists at least this long are worth a patch (a few KiB of list). */
export const PATCH_MIN_BLOCKS = 64;
/** Paths remembered per peer; the oldest are forgotten first. */
const REMEMBERED = 1024;

const patchable = (op: Operation) =>
  (op.kind === Kind.Put || op.kind === Kind.Chmod) &&
  op.content !== null &&
  op.content.blocks.length >= PATCH_MIN_BLOCKS;

/** Versions remembered per path: a resend of the newest (after a restatement) uses the one before. */
const GENERATIONS = 2;

/**
 * Reads the operation a patch is made or rebuilt against. One that cannot be read (a damaged
 * record) is as good as absent: the list then travels whole, or the receiver restates its
 * log.
 */
export function patchBaseReader(store: Pick<Store, 'getOp'>, logger: Logger): (dot: Dot) => LoggedOp | null {
  return loggedOpReader(store, logger, 'a patch base');
}

export class PeerContents {
  /** Per path, the newest first. */
  private readonly byPath = new Map<string, Dot[]>();

  constructor(private readonly getOp: (dot: Dot) => LoggedOp | null) {}

  /** The peer holds `op`: we sent it, or it sent it to us. */
  note(op: Operation): void {
    if (!patchable(op)) return;
    const dot = { origin: op.origin, seq: op.seq };
    const older = (this.byPath.get(op.path) ?? []).filter((d) => !sameDot(d, dot));
    this.byPath.delete(op.path);
    this.byPath.set(op.path, [dot, ...older].slice(0, GENERATIONS));
    if (this.byPath.size > REMEMBERED) this.byPath.delete(this.byPath.keys().next().value!);
  }

  /** The peer restated what its log holds: forget what it turns out not to hold. */
  restated(holds: Record<string, number>): void {
    for (const [path, dots] of this.byPath) {
      const held = dots.filter((d) => (holds[d.origin] ?? 0) >= d.seq);
      if (held.length) this.byPath.set(path, held);
      else this.byPath.delete(path);
    }
  }

  /** The wire form of a batch, in order: long lists patched against what the peer holds. */
  encode(items: readonly LoggedOp[]): { ops: Uint8Array[]; patches: OpPatch[] } {
    const ops: Uint8Array[] = [];
    const patches: OpPatch[] = [];
    for (const { op, bytes } of items) {
      const dot = { origin: op.origin, seq: op.seq };
      const base = patchable(op) ? this.byPath.get(op.path)?.find((d) => !sameDot(d, dot)) : undefined;
      const from = base ? this.getOp(base)?.op.content : undefined;
      const patch =
        from && op.content ? makePatch(from.blocks, from.size, op.content.blocks, op.content.size) : null;
      if (base && patch) {
        patches.push({ op: ops.length, base, head: patch.head, tail: patch.tail });
        ops.push(encodeOperation({ ...op, content: { ...op.content!, blocks: patch.middle } }));
      } else {
        ops.push(bytes);
      }
      this.note(op);
    }
    return { ops, patches };
  }
}

export type Rebuilt = { ok: true; ops: LoggedOp[]; missingBase: boolean } | { ok: false; problem: string };

/**
 * Rebuild the patched operations of a received batch, and check them as any operation is
 * checked. Bases are looked up among the batch's earlier operations, then in the log. A base
 * we do not hold (we skipped it after a gap) ends the batch there: `missingBase` asks the
 * caller to restate our log, which rewinds the sender. A patch that does not fit its base is
 * a protocol violation.
 */
export function rebuildBatch(
  decoded: readonly LoggedOp[],
  patches: readonly OpPatch[],
  getOp: (dot: Dot) => LoggedOp | null,
): Rebuilt {
  const byIndex = new Map<number, OpPatch>();
  for (const p of patches) {
    if (!Number.isSafeInteger(p.op) || p.op < 0 || p.op >= decoded.length || byIndex.has(p.op))
      return { ok: false, problem: `patch names operation ${p.op} of a batch of ${decoded.length}` };
    byIndex.set(p.op, p);
  }
  const out: LoggedOp[] = [];
  for (const [i, item] of decoded.entries()) {
    const p = byIndex.get(i);
    if (!p) {
      out.push(item);
      continue;
    }
    const { op } = item;
    if (!op.content) return { ok: false, problem: `patched operation ${op.origin}:${op.seq} has no content` };
    // Checked before it names a key in our log.
    if (!isOrigin(p.base.origin) || !Number.isSafeInteger(p.base.seq) || p.base.seq < 1)
      return { ok: false, problem: 'patch base is not a valid operation id' };
    const base = out.find((o) => sameDot(o.op, p.base))?.op ?? getOp(p.base)?.op ?? null;
    if (!base) return { ok: true, ops: out, missingBase: true };
    if (!base.content)
      return { ok: false, problem: `patch base ${p.base.origin}:${p.base.seq} has no content` };
    const patch = { head: p.head, tail: p.tail, middle: op.content.blocks };
    const blocks = applyPatch(base.content.blocks, base.content.size, patch, op.content.size);
    if (typeof blocks === 'string') return { ok: false, problem: blocks };
    const whole: Operation = { ...op, content: { ...op.content, blocks } };
    const problem = operationProblem(whole);
    if (problem)
      return { ok: false, problem: `invalid operation ${op.origin.slice(0, 60)}:${op.seq}: ${problem}` };
    out.push({ op: whole, bytes: encodeOperation(whole) });
  }
  return { ok: true, ops: out, missingBase: false };
}
