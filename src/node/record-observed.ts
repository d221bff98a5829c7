// The second half of a detector batch: what was observed (hashed outside the disk lock) is
// re-checked under it, recorded in one transaction, made durable and sent; then moved
// folders are looked at again below their new names.
import { K } from '../log/keys.ts';
import { Txn } from '../log/txn.ts';
import type { DetectorOptions } from './detector.ts';
import type { Observation } from './observe.ts';
import { MOVED_RECHECK_MS, sameObservedStat } from './settle-rules.ts';

/** The detector's queues this step updates. */
export interface DetectorState {
  /** Vanished paths and since when (rename sources, deletions in their grace period). */
  vanished: Map<string, number>;
  /** Queue paths to be looked at after delayMs (default: the settle time). */
  touch: (paths: Iterable<string>, delayMs?: number) => void;
}

/** Record what a batch observed and what is confirmed gone; send it; look again at moved folders. */
export async function recordObserved(
  o: DetectorOptions,
  d: DetectorState,
  observed: Map<string, Observation>,
  gone: Set<string>,
): Promise<void> {
  const { fs, store } = o;
  const candidates = [...d.vanished.keys()].filter((p) => !gone.has(p));
  if (observed.size === 0 && gone.size === 0) return;
  // Renames are deletions too (of their source): both wait while the folder looks unmounted.
  const deletesAllowed = (gone.size === 0 && candidates.length === 0) || (await o.deletesAllowed());
  const recorded = await o.mutex.run(async () => {
    // Re-check under the lock: anything that moved since it was hashed waits for another round.
    const present: Observation[] = [];
    for (const obs of observed.values()) {
      const now = await fs.lstat(obs.path);
      if (!now || !sameObservedStat(now, obs)) d.touch([obs.path]);
      else present.push(obs);
    }
    const confirmed: string[] = [];
    for (const p of gone) {
      d.vanished.delete(p);
      if ((await fs.lstat(p)) === null) confirmed.push(p);
      else d.touch([p]);
    }
    const txn = new Txn(store);
    const ops = await o.recorder.record(txn, {
      present,
      gone: deletesAllowed ? confirmed : [],
      candidates: deletesAllowed ? candidates : [],
    });
    if (!deletesAllowed) for (const p of confirmed) if (store.getFile(p)) d.vanished.set(p, o.env.now());
    const renamed = o.recorder.renamed;
    const unsettled = o.recorder.unsettled;
    await txn.commit(ops.length > 0); // operations must be durable before they are sent
    // A renamed path that was still waiting in the vanished list has been accounted for.
    for (const p of [...d.vanished.keys()]) if (!store.getFile(p)) d.vanished.delete(p);
    return { ops, unsettled, renamed };
  });
  if (recorded.ops.length || recorded.unsettled.size) o.onRecorded(recorded.ops, recorded.unsettled);
  // A moved directory: look again at everything now indexed below its new name (the
  // detector adds what its listing shows), MOVED_RECHECK_MS after the operation is sent, not
  // before: between a 1,000-file folder's commit and its RENAME being sent, this took
  // 6-16 ms. A path looked at needlessly (gone again meanwhile) costs one lstat.
  for (const [, to] of recorded.renamed) {
    const below = await store.filePaths(K.filesUnder(to));
    d.touch([to], MOVED_RECHECK_MS);
    d.touch(below, MOVED_RECHECK_MS);
  }
}
