// Heads whose last round found the disk changed under them (the user edited a path the
// round was about to touch). Each waits until the detector has recorded what the user did
// at the paths that differed, then is planned again; one that keeps getting blocked without
// a clean round in between (the detector sees no change where the steps see one) is handed
// back for the retry schedule instead of spinning. Plain bookkeeping, no I/O.
import { isWithin } from '../fs/paths.ts';
import type { Action } from './plan.ts';

/** After this many blocks in a row, a head is retried on the back-off schedule instead. */
export const MAX_REBLOCKS = 4;

export class BlockedHeads {
  /** Head → the changed paths the detector must look at first. */
  private readonly waits = new Map<string, Set<string>>();
  /** Heads blocked in a row without a clean round. */
  private readonly times = new Map<string, number>();

  get size(): number {
    return this.waits.size;
  }

  /**
   * A round carried out `actions`, and its steps found the disk changed at `mismatched`.
   * Heads touching those paths now wait for them; the others had a clean round. Returns
   * the heads blocked too often, for the caller to retry later.
   */
  afterRound(actions: readonly Action[], mismatched: readonly string[]): string[] {
    const hit = new Set(mismatched);
    const hitHeads = new Map<string, Set<string>>();
    for (const a of actions) {
      const paths = a.kind === 'move' || a.kind === 'moveDir' ? [a.from, a.to] : [a.path];
      const heads = ['headPath' in a ? a.headPath : null, 'expect' in a ? a.expect?.headPath : null];
      // A folder move that did not happen leaves its children to be planned again too.
      if (a.kind === 'moveDir') for (const c of a.children) heads.push(c.headPath, c.expect.headPath);
      // The path itself, a folder above it or an entry below it that the user changed.
      const waits = [...hit].filter((m) => paths.some((p) => isWithin(p, m) || isWithin(m, p)));
      for (const head of heads) {
        if (!head) continue;
        if (!paths.some((p) => hit.has(p))) {
          if (head === heads[0]) this.times.delete(head);
          continue;
        }
        const set = hitHeads.get(head) ?? new Set<string>();
        for (const m of waits) set.add(m);
        hitHeads.set(head, set);
      }
    }
    const parked: string[] = [];
    for (const [head, waits] of hitHeads) {
      const times = (this.times.get(head) ?? 0) + 1;
      this.times.set(head, times);
      if (times > MAX_REBLOCKS) {
        parked.push(head);
        continue;
      }
      const all = this.waits.get(head) ?? new Set<string>();
      for (const m of waits) all.add(m);
      this.waits.set(head, all);
    }
    return parked;
  }

  /**
   * The detector worked through its queue: the heads none of whose paths it still has
   * pending (a deletion in its grace period, say) may be planned again; they are returned
   * and forgotten here.
   */
  release(pending: (path: string) => boolean): string[] {
    const heads: string[] = [];
    for (const [head, waits] of this.waits) {
      if ([...waits].some(pending)) continue;
      this.waits.delete(head);
      heads.push(head);
    }
    return heads;
  }
}
