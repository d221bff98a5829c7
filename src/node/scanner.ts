// The start-up scan: what changed while the daemon was not running. The folder is walked
// once; each entry's lstat is compared with the file index (size, mtime, ctime, inode,
// mode), and only what differs is hashed. Renames are matched by inode, then by content;
// everything is recorded in bounded transactions, deletions last (after every possible
// rename partner has been seen).

import { SMALL_FILE_MAX } from '../fs/hasher.ts';
import type { IgnoreRules } from '../fs/ignore.ts';
import { pathDepth } from '../fs/paths.ts';
import type { FileSystem, Stat } from '../fs/types.ts';
import { K } from '../log/keys.ts';
import type { Store } from '../log/store.ts';
import { Txn } from '../log/txn.ts';
import type { Logger } from '../util/logger.ts';
import type { Mutex } from '../util/mutex.ts';
import type { Ingested } from './ingest.ts';
import { type Observation, observe, observeSmall, statMatches } from './observe.ts';
import type { Recorder } from './recorder.ts';
import { UNSTATED_FILE, walk } from './walk.ts';

export interface ScanProgress {
  phase: 'walk' | 'hash' | 'record' | 'done';
  entries: number;
  changed: number;
  hashedFiles: number;
  hashedBytes: number;
  totalBytes: number;
}

export interface ScanOptions {
  fs: FileSystem;
  store: Store;
  ignore: IgnoreRules;
  logger: Logger;
  mutex: Mutex;
  recorder: Recorder;
  onRecorded: (ops: Ingested[], unsettled: Iterable<string>) => void;
  onProgress?: (p: ScanProgress) => void;
  /** When false, paths missing from the folder are not recorded as deleted. */
  deletesAllowed: boolean;
}

export interface ScanResult {
  entries: number;
  operations: number;
  skipped: number;
}

const CHUNK = 1000;
const HASH_PARALLEL = 4;
/**
 * Fewer small-file candidates than this in a chunk are read in-line: the batch reader's
 * thread costs ~10 MiB and pays off only for many files (a first start lists files without
 * their sizes, so a lone 2 GiB file is a candidate too).
 */
const SMALL_BATCH_MIN = 64;

export async function scan(o: ScanOptions): Promise<ScanResult> {
  const progress: ScanProgress = {
    phase: 'walk',
    entries: 0,
    changed: 0,
    hashedFiles: 0,
    hashedBytes: 0,
    totalBytes: 0,
  };
  let skipped = 0;
  // A first start (nothing indexed) reads every file anyway, and that read's fstat is the
  // stat recorded: the walk lists files without an lstat each (~0.65 s of a 100,000-file
  // scan's main thread). Their sizes join the progress's total as they are read.
  const onDisk = await walk(o.fs, '', {
    statFiles: !(await o.store.indexEmpty()),
    ignore: o.ignore,
    onSkip: (path, reason) => {
      skipped++;
      if (skipped <= 20) o.logger.warn('name cannot be synced; skipped', { path, reason });
    },
  });
  progress.entries = onDisk.size;
  o.onProgress?.(progress);

  // Compare with the index: unchanged entries drop out, missing ones are candidates for
  // deletion (or rename sources), the rest must be looked at.
  const changed = new Map<string, Stat>();
  const missing: string[] = [];
  for await (const [path, entry] of o.store.files()) {
    const st = onDisk.get(path);
    if (!st) {
      if (!o.ignore.ignores(path, false)) missing.push(path);
      continue;
    }
    onDisk.delete(path);
    if (!statMatches(st, entry)) changed.set(path, st);
  }
  for (const [path, st] of onDisk) changed.set(path, st);
  onDisk.clear();
  progress.phase = 'hash';
  progress.changed = changed.size;
  for (const st of changed.values())
    if (st.kind === 'file' && st !== UNSTATED_FILE) progress.totalBytes += st.size;
  o.onProgress?.(progress);

  // Directories first (parents before children), then files, in chunks.
  // (Each path's depth is counted once, not in the comparator.)
  const order = [...changed.keys()]
    .map((path) => ({ path, depth: pathDepth(path) }))
    .sort((a, b) => a.depth - b.depth || (a.path < b.path ? -1 : 1))
    .map((e) => e.path);
  let operations = 0;
  const movedTo: string[] = [];
  // The next chunk is read and hashed while this one's batch is written and synced (the
  // main thread waited for each commit).
  const observeChunk = (i: number) => observeAll(o, order.slice(i, i + CHUNK), changed, progress);
  let next = order.length > 0 ? observeChunk(0) : null;
  for (let i = 0; next !== null; i += CHUNK) {
    const observed = await next;
    next = i + CHUNK < order.length ? observeChunk(i + CHUNK) : null;
    next?.catch(() => {}); // observeAll reports per path; this only keeps a throw from going unhandled
    operations += await recordChunk(o, observed, [], missing);
    for (const [, to] of o.recorder.renamed) movedTo.push(to);
    o.onProgress?.(progress);
  }
  // Last: whatever is still missing (not claimed by a rename) was deleted while we were away.
  const stillMissing = missing.filter((p) => o.store.getFile(p) !== null);
  // A folder rename carries along every entry indexed below it: one deleted before the
  // move is now indexed under the new name but absent there.
  for (const to of movedTo) {
    for (const p of await o.store.filePaths(K.filesUnder(to))) {
      if (!o.ignore.ignores(p, false) && (await o.fs.lstat(p).catch(() => null)) === null)
        stillMissing.push(p);
    }
  }
  progress.phase = 'record';
  if (stillMissing.length) {
    if (o.deletesAllowed) operations += await recordChunk(o, [], stillMissing, []);
    else
      o.logger.warn('folder looks unmounted or emptied: not recording deletions', {
        missing: stillMissing.length,
      });
  }
  progress.phase = 'done';
  o.onProgress?.(progress);
  return { entries: progress.entries, operations, skipped };
}

async function observeAll(
  o: ScanOptions,
  paths: string[],
  stats: Map<string, Stat>,
  progress: ScanProgress,
): Promise<Observation[]> {
  const found: (Observation | null)[] = new Array(paths.length).fill(null);
  const counted = (i: number, obs: Observation) => {
    if (obs.stat) found[i] = obs;
    if (obs.stat?.kind === 'file') {
      // A first start's walk did not know the size (walk.ts): the total grows as files are read.
      if (stats.get(obs.path) === UNSTATED_FILE) progress.totalBytes += obs.stat.size;
      progress.hashedFiles++;
      progress.hashedBytes += obs.stat.size;
    }
  };
  // Small files in one batch off the main thread where the filesystem can; the rest (and
  // any it did not answer for) one by one.
  const small = paths.flatMap((p, i) => {
    const st = stats.get(p);
    return st?.kind === 'file' && (st === UNSTATED_FILE || st.size <= SMALL_FILE_MAX) ? [i] : [];
  });
  const batch = await observeSmall(
    o.fs,
    small.length >= SMALL_BATCH_MIN ? small.map((i) => paths[i]!) : [],
  ).catch((err: unknown) => {
    // Slower, not wrong: every path is then read the ordinary way.
    o.logger.warn('batch read of small files failed; reading one by one', { error: String(err) });
    return [];
  });
  for (const [k, obs] of batch.entries()) if (obs) counted(small[k]!, obs);
  // A batch answer always has a stat, so what is still unfound is what is left to read.
  const rest = paths.flatMap((_, i) => (found[i] === null ? [i] : []));
  let next = 0;
  const worker = async () => {
    while (next < rest.length) {
      const i = rest[next++]!;
      const path = paths[i]!;
      try {
        counted(i, await observe(o.fs, path, undefined, stats.get(path)));
      } catch (err) {
        // Changing while we read it, or gone: the watcher (already running) will catch up.
        o.logger.debug('scan could not read; left to the watcher', { path, error: String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: HASH_PARALLEL }, worker));
  return found.filter((obs) => obs !== null);
}

async function recordChunk(
  o: ScanOptions,
  present: Observation[],
  gone: string[],
  candidates: string[],
): Promise<number> {
  const ops = await o.mutex.run(async () => {
    const txn = new Txn(o.store);
    const recorded = await o.recorder.record(txn, {
      present,
      gone,
      candidates: candidates.filter((p) => txn.getFile(p) !== null),
      matchContent: true,
    });
    const unsettled = o.recorder.unsettled;
    await txn.commit(recorded.length > 0);
    return { recorded, unsettled };
  });
  if (ops.recorded.length || ops.unsettled.size) o.onRecorded(ops.recorded, ops.unsettled);
  return ops.recorded.length;
}
