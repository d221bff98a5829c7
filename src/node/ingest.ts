// Appending an operation: the log record, the heads of every path it touches, this
// replica's acceptance decision (quorum bookkeeping), the per-path history index and the
// hybrid clock, all in the caller's transaction. The same code for local and remote ops.
import { receive } from '../clock/hlc.ts';
import { sameDot } from '../clock/vector.ts';
import { parentOf } from '../fs/paths.ts';
import type { Store } from '../log/store.ts';
import { Txn } from '../log/txn.ts';
import { effectsOf } from '../model/effects.ts';
import { applyVersion, emptyHead } from '../model/head.ts';
import { isTombstone } from '../model/version.ts';
import type { Head, Operation, Refusal, Version } from '../proto/types.ts';

export interface Ingested {
  op: Operation;
  bytes: Uint8Array;
  /** Head paths whose live versions changed. */
  affected: string[];
  /** Paths where this replica did not accept the operation's version as head. */
  refused: Refusal[];
  /**
   * Paths where the operation's own version is now the only live one (or none is live).
   * For an operation just made from what the disk shows, such a path needs no laying out.
   */
  alone: string[];
}

export function ingest(txn: Txn, op: Operation, bytes?: Uint8Array, wallMs?: number): Ingested {
  const stored = txn.appendOp(op, bytes);
  const affected: string[] = [];
  const refused: Refusal[] = [];
  const alone: string[] = [];
  for (const { path, version } of effectsOf(op)) {
    const before = txn.getHead(path) ?? emptyHead();
    const r = applyVersion(before, version);
    txn.setHead(path, r.head);
    // A folder that gains or loses its last live child may change shape (an implicit
    // folder appears; a file or link there becomes a conflict copy): lay it out again too.
    for (const dir of noteLiveness(txn, path, hasData(before), hasData(r.head))) affected.push(dir);
    txn.notePath(path, op);
    if (!r.accepted) {
      txn.refuse(op.origin, op.seq, path);
      refused.push({ dot: version.dot, path });
    }
    if (r.live || r.replaced.length) affected.push(path);
    const live = r.head.versions.filter((v) => !isTombstone(v));
    if (live.length === 0 || (live.length === 1 && sameDot(live[0]!.dot, version.dot))) alone.push(path);
  }
  if (wallMs !== undefined) txn.setHlc(receive(txn.lastHlc, op.hlc, wallMs));
  return { op, bytes: stored, affected, refused, alone };
}

/**
 * Append a peer's operations in one transaction, not synced (the caller syncs before it
 * acknowledges them). Those already held are skipped; one past a gap is left out and `gap`
 * is set, so that the peer is asked for the missing range.
 */
export async function appendRemote(
  store: Store,
  ops: readonly { op: Operation; bytes: Uint8Array }[],
  wallMs: number,
): Promise<{ ingested: Ingested[]; gap: boolean }> {
  let gap = false;
  const txn = new Txn(store);
  const ingested: Ingested[] = [];
  for (const { op, bytes } of ops) {
    const held = txn.held(op.origin);
    if (op.seq <= held) continue; // already have it
    if (op.seq > held + 1) {
      gap = true;
      continue;
    }
    ingested.push(ingest(txn, op, bytes, wallMs));
  }
  await txn.commit(false);
  return { ingested, gap };
}

function hasData(h: Head): boolean {
  return h.versions.some((v) => !isTombstone(v));
}

/**
 * Keep the live-children counts of the ancestors in step when a path gains or loses live
 * data: a directory exists on disk while any path below it has data.
 */
function noteLiveness(txn: Txn, path: string, dataBefore: boolean, dataAfter: boolean): string[] {
  const kids = txn.liveChildren(path) > 0;
  let was = dataBefore || kids;
  let now = dataAfter || kids;
  let child = path;
  const changed: string[] = [];
  while (was !== now && child !== '') {
    const dir = parentOf(child);
    const n = txn.liveChildren(dir);
    const next = Math.max(0, n + (now ? 1 : -1));
    txn.setLiveChildren(dir, next);
    if ((n === 0) !== (next === 0) && dir !== '') changed.push(dir);
    const dirHead = txn.getHead(dir);
    const dirData = !!dirHead && hasData(dirHead);
    was = dirData || n > 0;
    now = dirData || next > 0;
    child = dir;
  }
  return changed;
}

/** The version an operation made at a path (from the log), for histories of versions no longer live. */
export function versionFromOp(op: Operation, path: string): Version | null {
  let found: Version | null = null;
  for (const e of effectsOf(op)) if (e.path === path) found = e.version;
  return found;
}
