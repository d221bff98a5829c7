// Looking at one path a watcher event named (the detector's batches, several at once):
// unchanged since the index entry (our own writes included) costs one lstat; gone starts
// its grace period for a rename partner; a file most likely still being written waits; a
// file is hashed (or its content taken from the index, for an entry of a moved folder); a
// new folder queues its entries, a moved one is listed once its RENAME is sent.
import type { IgnoreRules } from '../fs/ignore.ts';
import { isWithin } from '../fs/paths.ts';
import type { FileSystem } from '../fs/types.ts';
import { K } from '../log/keys.ts';
import type { Store } from '../log/store.ts';
import { EntryType } from '../proto/types.ts';
import type { Env } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import { type Observation, observe, statMatches } from './observe.ts';
import { carriedAlong, unstableFor } from './settle-rules.ts';
import { walk } from './walk.ts';

export interface LookContext {
  fs: FileSystem;
  store: Store;
  env: Env;
  logger: Logger;
  ignore: () => IgnoreRules;
  /** Paths gone from disk, since when (the detector's, shared). */
  vanished: Map<string, number>;
  touch: (paths: Iterable<string>, delayMs?: number) => void;
  retryLater: (path: string, err: unknown) => void;
}

/** What a batch's looks found: observations, paths to look at too, moved folders to list. */
export interface Found {
  observed: Map<string, Observation>;
  queue: string[];
  listLater: string[];
}

export async function lookAtPath(c: LookContext, p: string, out: Found): Promise<void> {
  const { fs, store } = c;
  const entry = store.getFile(p);
  const stat = await fs.lstat(p);
  if (statMatches(stat, entry)) {
    c.vanished.delete(p);
    return;
  }
  if (!stat) {
    if (!entry) return;
    if (!c.vanished.has(p)) c.vanished.set(p, c.env.now());
    if (entry.type === EntryType.Directory) {
      for (const child of await store.filePaths(K.filesUnder(p))) {
        if (!c.vanished.has(child)) c.vanished.set(child, c.env.now());
      }
    }
    return;
  }
  if (stat.kind === 'other') return;
  c.vanished.delete(p);
  const wait = unstableFor(p, stat, entry, c.env.now());
  if (wait > 0) {
    c.touch([p], wait);
    return;
  }
  // The inode known under another name: a rename, or an entry of a moved folder.
  const from = !entry || entry.ino !== stat.ino ? store.pathOfInode(stat.ino) : null;
  const fromEntry = from && from !== p ? store.getFile(from) : null;
  try {
    // The lstat just taken decides the kind (a file is stat'ed again through its handle).
    const obs = carriedAlong(p, stat, fromEntry) ?? (await observe(fs, p, undefined, stat));
    if (obs.reused) c.logger.debug('re-hashed', { path: p, size: stat.size, reused: obs.reused });
    out.observed.set(p, obs);
  } catch (err) {
    c.retryLater(p, err);
    return;
  }
  // Appeared with an inode we know under another name that is now absent: a rename.
  const renamed = !!from && from !== p && !isWithin(p, from) && (await fs.lstat(from))?.ino !== stat.ino;
  if (renamed) {
    c.vanished.set(from, c.env.now());
    if (fromEntry?.type === EntryType.Directory) {
      for (const child of await store.filePaths(K.filesUnder(from))) c.vanished.set(child, c.env.now());
    }
  }
  // A new directory: its contents may have arrived without events of their own. Its
  // own entries only: a new folder among them is listed when it is looked at in turn
  // (walking the whole tree here listed a burst's nested folders twice, and held the
  // first batch of a 5,000-file burst for 0.7 s). A moved folder is listed once its
  // RENAME is sent: the operation takes its indexed contents along, and listing 1,000
  // entries first held it back by ~30 ms.
  if (stat.kind === 'dir' && (!entry || entry.ino !== stat.ino)) {
    if (renamed && fromEntry?.type === EntryType.Directory) out.listLater.push(p);
    else {
      const inside = await walk(fs, p, { ignore: c.ignore(), recursive: false });
      for (const child of inside.keys()) out.queue.push(child);
    }
  }
}
