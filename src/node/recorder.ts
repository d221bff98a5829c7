// Turning what changed on disk into operations. Input: fresh observations of paths that
// differ from the file index, and paths confirmed gone. Output: operations appended in
// the caller's transaction, with the file index brought up to date. Three rules:
//  - a disk path that already shows the version the replicated state puts there is not a
//    change (our own writes, and the disk after a crash mid-write, are recognised this way);
//  - a path that reappears elsewhere with the same inode (or, in a full scan, the same
//    content) was renamed: one RENAME operation, a whole directory included;
//  - a new version's history is the history of what the disk showed at that path, plus
//    its own dot, minus this replica's other live versions of the path (see vector.ts).
import { tick } from '../clock/hlc.ts';
import { sameDot, withDot, without } from '../clock/vector.ts';
import { pathDepth as depth, isWithin, joinPath } from '../fs/paths.ts';
import { K } from '../log/keys.ts';
import type { Store } from '../log/store.ts';
import type { Txn } from '../log/txn.ts';
import {
  blankOperation,
  type Dot,
  EntryType,
  type FileEntry,
  Kind,
  type Operation,
  type RenameEntry,
} from '../proto/types.ts';
import { type Ingested, ingest } from './ingest.ts';
import { type CommitOracle, layoutOf } from './layout.ts';
import { dirMode, entryOf, type Observation, showsVersion, statMatches } from './observe.ts';
import { PathHistory } from './path-history.ts';
import { renameSourceOf, sameBytesOf } from './rename-source.ts';

export const FORMAT = 1;

export interface RecordBatch {
  /** Paths that exist and differ from the index (observed under the disk lock). */
  present: Observation[];
  /** Indexed paths confirmed absent, to record as deleted unless renamed. */
  gone: string[];
  /** Further absent indexed paths that may be rename sources but are not to be deleted yet. */
  candidates?: string[];
  /** Match renames by content too (full scans, where inodes may not survive). */
  matchContent?: boolean;
}

export interface RecorderContext {
  store: Store;
  now: () => number;
  isCommitted: CommitOracle;
}

export class Recorder {
  /** Renames recorded by the last record() call: their targets deserve a fresh look. */
  renamed: [string, string][] = [];
  /** Synced paths the last record() call touched: the reconciler should look at them. */
  unsettled = new Set<string>();

  private readonly history: PathHistory;

  constructor(private readonly ctx: RecorderContext) {
    this.history = new PathHistory(ctx.store);
  }

  async record(txn: Txn, batch: RecordBatch): Promise<Ingested[]> {
    const out: Ingested[] = [];
    this.renamed = [];
    this.unsettled = new Set();
    const gone = new Set(batch.gone);
    const absent = new Set([...batch.gone, ...(batch.candidates ?? [])]);
    const present = new Map(batch.present.map((o) => [o.path, o]));

    // 1. Renames, shallowest first, so a moved directory takes its contents along.
    for (const obs of [...present.values()].sort((a, b) => depth(a.path) - depth(b.path))) {
      const from = renameSourceOf(txn, obs, absent, batch.matchContent === true);
      if (from === null) continue;
      out.push(...(await this.recordRename(txn, from, obs)));
      this.renamed.push([from, obs.path]);
      // Paths that had vanished inside the moved tree are still missing under their new names.
      const moved = (p: string) => (p === from ? obs.path : `${obs.path}/${p.slice(from.length + 1)}`);
      for (const p of [...absent]) {
        if (!isWithin(p, from)) continue;
        absent.delete(p);
        if (p !== from) absent.add(moved(p));
      }
      for (const p of [...gone]) if (isWithin(p, from)) gone.delete(p);
    }
    // 2. New and changed paths, parents first.
    for (const obs of [...present.values()].sort((a, b) => depth(a.path) - depth(b.path))) {
      const entry = txn.getFile(obs.path);
      if (statMatches(obs.stat, entry)) continue; // settled by a rename above
      const r = await this.recordPresent(txn, obs, entry);
      if (r) out.push(r);
    }
    // 3. Disappearances, children first.
    for (const path of [...gone].sort((a, b) => depth(b) - depth(a))) {
      const entry = txn.getFile(path);
      if (!entry) continue;
      const r = await this.recordGone(txn, path, entry);
      if (r) out.push(r);
    }
    return out;
  }

  private async recordRename(txn: Txn, from: string, obs: Observation): Promise<Ingested[]> {
    const to = obs.path;
    const moved: [string, FileEntry][] = [[from, txn.getFile(from)!]];
    const copies: [string, FileEntry][] = [];
    if (obs.stat!.kind === 'dir') {
      for (const [p, e] of await this.indexedUnder(txn, from))
        (e.headPath === p ? moved : copies).push([p, e]);
    }
    const entries: RenameEntry[] = [];
    const except: Dot[] = [];
    const seq = txn.held(this.ctx.store.origin) + 1;
    const origin = this.ctx.store.origin;
    for (const [p, e] of moved) {
      const rel = p === from ? '' : p.slice(from.length + 1);
      const shown = e.version ? this.history.versionAt(txn, p, e.version) : null;
      const target = joinPath(to, rel);
      // The moved version's history covers whatever its origin had seen, on any path: at
      // the target it must not cover versions the user did not see there (conflict copies
      // of the target, say); only the one shown at the target is replaced knowingly.
      const fromClock = without(
        shown ? shown.clock : this.history.tombstoneClock(txn, p),
        this.history.unseenAt(txn, target, txn.getFile(target)),
      );
      entries.push({
        path: rel,
        kind:
          e.type === EntryType.File ? Kind.Put : e.type === EntryType.Directory ? Kind.Mkdir : Kind.Symlink,
        fromClock,
        toClock: this.history.shownClock(txn, target, txn.getFile(target)),
        mode: e.mode,
        mtimeMs: e.mtimeMs,
        content: e.type === EntryType.File ? e.content : null,
        link: e.link,
      });
      except.push(
        ...this.history.ownSiblings(txn, p, shown?.dot ?? null),
        ...this.history.ownSiblings(txn, target, null),
      );
    }
    const dot = { origin, seq };
    const op = this.op(txn, {
      seq,
      clock: withDot({ vv: {}, except: [] }, dot, except),
      path: from,
      kind: Kind.Rename,
      to,
      entries,
    });
    const out = [ingest(txn, op)];
    // The index follows the files: same stat, now showing the versions the rename made.
    for (const [p, e] of moved) {
      const target = joinPath(to, p === from ? '' : p.slice(from.length + 1));
      txn.setFile(p, null);
      // The moved root keeps its old stat (the rename changed its ctime), so if its content
      // changed too, the next step still sees a difference and records it.
      txn.setFile(target, { ...e, headPath: target, version: dot });
    }
    // Conflict copies carried along are no longer copies: their losing versions are deleted
    // and the files are recorded as new ones where they now are (the caller rescans `to`).
    for (const [p, e] of copies) {
      const r = await this.recordGone(txn, p, e);
      if (r) out.push(r);
    }
    return out;
  }

  private async recordPresent(txn: Txn, obs: Observation, entry: FileEntry | null): Promise<Ingested | null> {
    const s = obs.stat!;
    const headPath = entry ? entry.headPath : obs.path;
    // Already what the replicated state puts here? Then it is our own write: no operation.
    const layout = layoutOf(txn, headPath, this.ctx.isCommitted);
    const placed = [layout.main, ...layout.copies].find((p) => p?.diskPath === obs.path) ?? null;
    // (A real folder where the state has only an implicit one — it exists because of its
    // children — is recorded: otherwise it would vanish on peers once they are gone.)
    const implicitOnly = placed?.version === null && s.kind === 'dir' && !entry;
    if (placed && showsVersion(obs, placed.version) && !implicitOnly) {
      txn.setFile(obs.path, entryOf(obs, headPath, placed.version?.dot ?? null));
      return null;
    }
    const shown = entry?.version ? this.history.versionAt(txn, headPath, entry.version) : null;
    if (entry && entry.type === EntryType.Directory && s.kind === 'dir') {
      // A folder stays the same version unless the user changed its permissions (its times
      // change with its contents); one the state only implies gets a version of its own then.
      const mode = s.mode & 0o777;
      const same = (entry.mode & 0o777) === mode || (shown?.kind === Kind.Mkdir && dirMode(shown) === mode);
      if (same) {
        txn.setFile(obs.path, entryOf(obs, headPath, entry.version));
        return null;
      }
    }
    if (s.kind === 'other') return null;
    const chmodOnly =
      shown !== null &&
      shown.kind === Kind.Put &&
      s.kind === 'file' &&
      sameBytesOf(shown.content?.digest, obs.content?.digest);
    if (chmodOnly && (shown.mode & 0o777) === (s.mode & 0o777)) {
      txn.setFile(obs.path, entryOf(obs, headPath, shown.dot)); // touched, not changed
      return null;
    }
    const kind =
      s.kind === 'file' ? (chmodOnly ? Kind.Chmod : Kind.Put) : s.kind === 'dir' ? Kind.Mkdir : Kind.Symlink;
    const seq = txn.held(this.ctx.store.origin) + 1;
    const dot = { origin: this.ctx.store.origin, seq };
    const base = shown ? shown.clock : this.history.shownClock(txn, headPath, null);
    const op = this.op(txn, {
      seq,
      clock: withDot(base, dot, this.history.ownSiblings(txn, headPath, shown?.dot ?? null)),
      path: headPath,
      kind,
      mode: s.kind === 'dir' ? s.mode & 0o7777 : s.mode & 0o777,
      mtimeMs: s.mtimeMs,
      content: s.kind === 'file' ? obs.content : null,
      link: obs.link,
    });
    const ing = ingest(txn, op);
    txn.setFile(obs.path, entryOf(obs, headPath, dot));
    return ing;
  }

  private async recordGone(txn: Txn, path: string, entry: FileEntry): Promise<Ingested | null> {
    txn.setFile(path, null);
    const headPath = entry.headPath;
    const shown = entry.version ? this.history.versionAt(txn, headPath, entry.version) : null;
    // Gone because the version it showed now belongs elsewhere (a crash between moving a
    // loser aside and writing the winner)? Then nobody deleted anything; the reconciler
    // puts back whatever belongs here.
    const layout = layoutOf(txn, headPath, this.ctx.isCommitted);
    const placements = [layout.main, ...layout.copies];
    // Nothing belongs here any more (we applied a remote delete, or moved it): the disk
    // already agrees with the state.
    const placedHere = placements.some((p) => p?.diskPath === path);
    const movedAway =
      entry.version !== null &&
      placements.some((p) => p && p.diskPath !== path && sameDot(p.version?.dot, entry.version));
    this.unsettled.add(headPath);
    if (!placedHere || movedAway) return null;
    const seq = txn.held(this.ctx.store.origin) + 1;
    const dot = { origin: this.ctx.store.origin, seq };
    const base = shown ? shown.clock : this.history.shownClock(txn, headPath, null);
    const op = this.op(txn, {
      seq,
      clock: withDot(base, dot, this.history.ownSiblings(txn, headPath, shown?.dot ?? null)),
      path: headPath,
      kind: entry.type === EntryType.Directory ? Kind.Rmdir : Kind.Delete,
    });
    return ingest(txn, op);
  }

  private op(
    txn: Txn,
    fields: Partial<Operation> & Pick<Operation, 'seq' | 'clock' | 'path' | 'kind'>,
  ): Operation {
    const hlc = tick(txn.lastHlc, this.ctx.now());
    txn.setHlc(hlc);
    return { ...blankOperation(), format: FORMAT, origin: this.ctx.store.origin, hlc, ...fields };
  }

  private async indexedUnder(txn: Txn, dir: string): Promise<[string, FileEntry][]> {
    const paths = new Set(await this.ctx.store.filePaths(K.filesUnder(dir)));
    for (const p of txn.pendingFilesUnder(dir)) paths.add(p);
    const out: [string, FileEntry][] = [];
    for (const p of paths) {
      const e = txn.getFile(p);
      if (e) out.push([p, e]);
    }
    return out;
  }
}
