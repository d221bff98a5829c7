// The disk side of a reconcile round: each step first checks that the disk still shows
// what the index says (else the user changed it, and the step is left for the detector to
// record first), then changes the disk and the index together.
import type { IgnoreRules } from '../fs/ignore.ts';
import { parentOf } from '../fs/paths.ts';
import type { FileSystem, Stat } from '../fs/types.ts';
import type { Store } from '../log/store.ts';
import { Txn } from '../log/txn.ts';
import { EntryType, type FileEntry, Kind, type Version } from '../proto/types.ts';
import type { Logger } from '../util/logger.ts';
import type { Mutex } from '../util/mutex.ts';
import { dirMode, statMatches } from './observe.ts';
import type { Action } from './plan.ts';
import { walk } from './walk.ts';

export interface ReconcileStats {
  written: number;
  moved: number;
  removed: number;
  localBytes: number;
  remoteBytes: number;
}

export interface DiskStepsOptions {
  fs: FileSystem;
  /** The folder's ignore rules now. */
  ignore: () => IgnoreRules;
  /** Paths below a folder where the detector has seen a change it has not recorded yet. */
  pendingUnder: (dir: string) => string[];
  store: Store;
  logger: Logger;
  mutex: Mutex;
}

export class DiskSteps {
  constructor(
    private readonly o: DiskStepsOptions,
    private readonly stats: ReconcileStats,
  ) {}

  /** Carry out one quick action (under the disk lock, in the given transaction). */
  async quick(txn: Txn, a: Action, mismatched: string[], replan: Set<string>): Promise<void> {
    const { fs } = this.o;
    switch (a.kind) {
      case 'moveDir': {
        if (!(await this.check(a.from, a.expect, mismatched)) || !(await this.check(a.to, null, mismatched)))
          return;
        // An unrecorded change inside (a file the user just deleted, say) would be carried
        // to the new name in the index but not on disk: record it first.
        const pending = this.o.pendingUnder(a.from);
        if (pending.length) {
          mismatched.push(a.from, ...pending);
          return;
        }
        await this.ensureParent(a.to, replan, txn);
        await fs.rename(a.from, a.to);
        const st = await this.withMode(a.to, a.version, await fs.lstat(a.to));
        txn.setFile(a.from, null);
        if (st) txn.setFile(a.to, entryFor(st, a.headPath, a.version));
        // Children keep their inode and times; only their names and versions change (and a
        // folder's permissions, if its version says so).
        const carried = new Map<string, FileEntry>();
        for (const c of a.children) {
          txn.setFile(c.from, null);
          const moved = { ...c.expect, headPath: c.headPath, version: c.version?.dot ?? null };
          if (c.version && (c.version.mode & 0o777) !== (c.expect.mode & 0o777)) {
            const cst = await this.withMode(c.to, c.version, await fs.lstat(c.to));
            if (cst) Object.assign(moved, { mode: cst.mode, ctimeMs: cst.ctimeMs });
          }
          txn.setFile(c.to, moved);
          carried.set(c.to, moved);
        }
        // A change inside made just before the rename whose event has not reached the
        // detector (pendingUnder saw none) now shows under the new name only, while its event
        // names the old one: a file deleted there stayed in the index under the new name and
        // was never recorded. Compare the moved tree with what the index carried; the
        // detector looks at every difference.
        for (const p of await this.differences(a.to, carried)) mismatched.push(p);
        this.stats.moved += a.children.length + 1;
        return;
      }
      case 'move': {
        if (
          !(await this.check(a.from, a.expect, mismatched)) ||
          !(await this.check(a.to, a.expectTo, mismatched))
        )
          return;
        await this.ensureParent(a.to, replan, txn);
        await fs.rename(a.from, a.to);
        let st = await fs.lstat(a.to);
        if (st && (st.mode & 0o777) !== (a.version.mode & 0o777)) {
          await fs.chmod(a.to, a.version.mode & 0o777);
          st = await fs.lstat(a.to);
        }
        txn.setFile(a.from, null);
        if (st) txn.setFile(a.to, entryFor(st, a.headPath, a.version));
        this.stats.moved++;
        return;
      }
      case 'mkdir': {
        if (!(await this.check(a.path, a.expect, mismatched))) return;
        if (a.expect && a.expect.type !== EntryType.Directory) await fs.unlink(a.path);
        const st0 = await fs.lstat(a.path);
        if (!st0) await this.ensureParent(a.path, replan, txn);
        if (!st0) await fs.mkdir(a.path, dirMode(a.version));
        // Exactly the version's permissions (mkdir's mode passes through the umask).
        const st = await this.withMode(a.path, a.version, await fs.lstat(a.path));
        if (st) txn.setFile(a.path, entryFor(st, a.headPath, a.version));
        return;
      }
      case 'relabel': {
        if (!(await this.check(a.path, a.expect, mismatched))) return;
        // A chmod, or a folder made implicitly (for a file inside it) getting its own mode.
        const st = await this.withMode(a.path, a.version, await fs.lstat(a.path));
        if (st) txn.setFile(a.path, entryFor(st, a.headPath, a.version, a.expect));
        return;
      }
      case 'write': {
        // Symlinks: replaced in place (there is no atomic way to swap a link for a file).
        if (!(await this.check(a.path, a.expect, mismatched))) return;
        await this.clear(a.path, a.expect);
        await this.ensureParent(a.path, replan, txn);
        await fs.symlink(a.version.link, a.path);
        const st = await fs.lstat(a.path);
        if (st) txn.setFile(a.path, entryFor(st, a.headPath, a.version));
        return;
      }
      case 'remove': {
        if (!(await this.check(a.path, a.expect, mismatched))) return;
        await fs.unlink(a.path);
        txn.setFile(a.path, null);
        this.stats.removed++;
        return;
      }
      case 'rmdir': {
        if (!(await this.check(a.path, a.expect, mismatched))) return;
        try {
          await fs.rmdir(a.path);
          txn.setFile(a.path, null);
        } catch (err) {
          // Something is still inside: keep the folder. What the user put there and the
          // detector has not recorded yet is a local change to wait for (it may keep the
          // folder alive); ignored entries just keep it, with nothing to wait for (waiting
          // would replan in a loop). Synced entries are ones this round moves or removes
          // but could not yet (an ordering effect, a failed step): the folder is tried again
          // after them, or it would stay behind empty once they leave.
          if ((err as { code?: string }).code !== 'ERR_NOT_EMPTY') throw err;
          this.o.logger.debug('folder kept: not empty', { path: a.path });
          const inside = (await fs.readdir(a.path).catch(() => []))
            .map((e) => ({ path: `${a.path}/${e.name}`, dir: e.kind === 'dir' }))
            .filter((e) => !this.o.ignore().ignores(e.path, e.dir));
          const unrecorded = inside.filter((e) => !txn.getFile(e.path)).map((e) => e.path);
          if (unrecorded.length) mismatched.push(a.path, ...unrecorded);
          else if (inside.length) throw err;
        }
        return;
      }
    }
  }

  /** A file or folder given its version's permissions if it lacks them; returns its stat after. */
  private async withMode(path: string, v: Version | null, st: Stat | null): Promise<Stat | null> {
    const mode =
      st?.kind === 'dir' && v?.kind === Kind.Mkdir
        ? dirMode(v)
        : st?.kind === 'file' && v?.kind === Kind.Put
          ? v.mode & 0o777
          : null;
    if (st === null || mode === null || (st.mode & 0o777) === mode) return st;
    await this.o.fs.chmod(path, mode);
    return this.o.fs.lstat(path);
  }

  /** Paths below `dir` where the disk does not show what `indexed` says (either way). */
  private async differences(dir: string, indexed: Map<string, FileEntry>): Promise<string[]> {
    const ignore = this.o.ignore();
    const onDisk = await walk(this.o.fs, dir, { ignore });
    const out: string[] = [];
    for (const [p, st] of onDisk) if (!statMatches(st, indexed.get(p) ?? null)) out.push(p);
    // The walk skips ignored paths: one indexed before the rules changed is no difference
    // (the detector would never record it, and the move's heads would wait on it).
    for (const [p, e] of indexed)
      if (!onDisk.has(p) && !ignore.ignores(p, e.type === EntryType.Directory)) out.push(p);
    return out;
  }

  /** The disk still shows what the index says (else the user changed it). */
  async check(path: string, expect: FileEntry | null, mismatched: string[]): Promise<boolean> {
    const st = await this.o.fs.lstat(path);
    if (statMatches(st, expect)) return true;
    mismatched.push(path);
    return false;
  }

  async clear(path: string, expect: FileEntry | null): Promise<void> {
    if (!expect) return;
    if (expect.type === EntryType.Directory) await this.o.fs.rmdir(path);
    else await this.o.fs.unlink(path);
  }

  /** A file's folder must exist; if it does not yet, create it and let its own round label it. */
  async ensureParent(path: string, replan: Set<string>, txn?: Txn): Promise<void> {
    const dir = parentOf(path);
    if (dir === '') return;
    const st = await this.o.fs.lstat(dir);
    const index = txn ?? this.o.store;
    if (st?.kind === 'dir') {
      // Another folder than the one the index has (the user moved it away and made a new
      // one): writing into it would file remote data under the wrong folder. A folder the
      // index lacks (made by the user, not yet recorded) is checked by the nearest one it has:
      // `mv d e; mkdir -p d/f` leaves a new d/f inside a new d.
      let at = dir;
      let known = index.getFile(at);
      while (!known && at.includes('/')) {
        at = parentOf(at);
        known = index.getFile(at);
      }
      if (!known) return;
      const atSt = at === dir ? st : await this.o.fs.lstat(at);
      if (known.type !== EntryType.Directory || atSt?.kind !== 'dir' || known.ino !== atSt.ino)
        throw new LocalChangeError(at);
      return;
    }
    if (st) {
      replan.add(dir); // it must become a folder first: its own layout says so
      throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ERR_PARENT' });
    }
    // A missing folder the index still has was moved or deleted by the user, not yet
    // recorded: making it again here would put remote files where the user no longer has them.
    for (let d = dir; d !== ''; d = parentOf(d)) {
      if (index.getFile(d)) throw new LocalChangeError(d);
      if (await this.o.fs.lstat(parentOf(d))) break;
    }
    // Index the folder we create (as implicit), or the detector would record it as new.
    const create = async (t: Txn) => {
      await this.o.fs.mkdir(dir, 0o755);
      for (let d = dir; d !== ''; d = parentOf(d)) {
        if (t.getFile(d)) break;
        const made = await this.o.fs.lstat(d);
        if (made) t.setFile(d, entryFor(made, d, null));
      }
    };
    if (txn) await create(txn);
    else {
      await this.o.mutex.run(async () => {
        const t = new Txn(this.o.store);
        await create(t);
        await t.commit(false);
      });
    }
    replan.add(dir);
  }
}

export function isLink(v: Version | null): boolean {
  return v?.kind === Kind.Symlink;
}

export function statOf(e: FileEntry | null): Stat | null {
  if (!e) return null;
  const kind = e.type === EntryType.File ? 'file' : e.type === EntryType.Directory ? 'dir' : 'link';
  return { kind, size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, mode: e.mode };
}

/** The index entry for what was just put on disk (content from the version, or kept). */
export function entryFor(st: Stat, headPath: string, v: Version | null, was?: FileEntry | null): FileEntry {
  return {
    type: st.kind === 'file' ? EntryType.File : st.kind === 'dir' ? EntryType.Directory : EntryType.Link,
    size: st.kind === 'file' ? st.size : 0,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    mode: st.mode,
    ctimeMs: st.ctimeMs,
    content: v?.content ?? was?.content ?? null,
    link: v?.link ?? was?.link ?? '',
    headPath,
    version: v?.dot ?? null,
  };
}

/** A folder the index has is gone from disk: a local change the detector has yet to record. */
export class LocalChangeError extends Error {
  readonly code = 'ERR_LOCAL_CHANGE';
  constructor(readonly path: string) {
    super(`${path}: changed locally, not yet recorded`);
  }
}
