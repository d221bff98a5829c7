// Making the disk show the replicated state. Synced paths whose versions changed are
// queued; each round lays them out (winner, conflict copies), plans the difference with
// the file index, and carries it out: moves, directories, labels and links under the disk
// lock; file contents assembled into temp files outside it (in parallel, streaming), then
// committed in groups; removals last. Every step first checks that the disk still shows
// what the index says — if not, the user changed it, the detector records that first,
// and the path is planned again.
import { isWithin, parentOf } from '../fs/paths.ts';
import type { FileSystem, Stat, TempFile } from '../fs/types.ts';
import { K } from '../log/keys.ts';
import type { Store } from '../log/store.ts';
import { Txn } from '../log/txn.ts';
import { EntryType, type FileEntry, Kind, type Version } from '../proto/types.ts';
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import type { Mutex } from '../util/mutex.ts';
import { type ContentAssembler, ContentUnavailableError } from './content.ts';
import { type CommitOracle, layoutOf } from './layout.ts';
import { statMatches } from './observe.ts';
import { type Action, plan, type Slot } from './plan.ts';

export interface ReconcilerOptions {
  fs: FileSystem;
  store: Store;
  env: Env;
  logger: Logger;
  mutex: Mutex;
  assembler: ContentAssembler;
  isCommitted: CommitOracle;
  /** The disk differs from the index here: let the detector record it. */
  onMismatch: (paths: string[]) => void;
  /** These paths are no longer being written (the detector may look at them again). */
  onReleased?: (paths: string[]) => void;
  /** Parallel file transfers. */
  parallel?: number;
}

// Large enough that one directory rename (all its sources and targets) plans together.
const BATCH = 8192;
const RETRY_MS = [1000, 5000, 15000, 60000];

interface ReadyFile {
  a: Extract<Action, { kind: 'write' }>;
  tmp: TempFile;
  mismatched: string[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface Transfer {
  path: string;
  size: number;
  done: number;
}

export class Reconciler {
  private readonly dirty = new Set<string>();
  private readonly waiting = new Map<string, number>(); // head path → attempts
  private readonly busyPaths = new Set<string>();
  private readonly quickRetried = new Set<string>();
  private retrying = new Map<string, number>();
  /** Heads waiting for the detector, with the paths it must look at first. */
  private readonly blocked = new Map<string, Set<string>>();
  readonly transfers = new Map<string, Transfer>();
  private running: Promise<void> | null = null;
  private retryTimer: Timer | null = null;
  private stopped = false;
  stats = { written: 0, moved: 0, removed: 0, localBytes: 0, remoteBytes: 0 };

  constructor(private readonly o: ReconcilerOptions) {}

  schedule(headPaths: Iterable<string>): void {
    if (this.stopped) return;
    for (const p of headPaths) {
      this.dirty.add(p);
      this.waiting.delete(p);
      this.quickRetried.delete(p);
    }
    this.kick();
  }

  /** Content may be available now (a peer connected): try the waiting paths again. */
  retryWaiting(): void {
    if (this.waiting.size === 0) return;
    // Parked again if they still fail; the attempt counts are kept for the back-off.
    for (const p of this.waiting.keys()) this.dirty.add(p);
    this.retrying = new Map(this.waiting);
    this.waiting.clear();
    this.kick();
  }

  isBusy(path: string): boolean {
    return this.busyPaths.has(path);
  }

  get idle(): boolean {
    return (
      this.dirty.size === 0 && this.running === null && this.blocked.size === 0 && this.rounds.size === 0
    );
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    await this.running;
    await Promise.all(this.rounds);
  }

  private kick(): void {
    if (this.running || this.stopped || !this.plannable()) return;
    this.running = this.loop()
      .catch((err: unknown) => this.o.logger.error('reconcile failed', { error: String(err) }))
      .finally(() => {
        this.running = null;
        this.kick();
      });
  }

  /**
   * Some dirty path can be planned now. Paths of a round whose files are still being
   * transferred wait for it (it kicks again when it ends); without this check the loop would
   * restart itself for ever in microtasks and starve the whole process.
   */
  private plannable(): boolean {
    if (this.transferring.size === 0) return this.dirty.size > 0;
    for (const p of this.dirty) if (!this.transferring.has(p)) return true;
    return false;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const batch: string[] = [];
      for (const p of this.dirty) {
        if (this.transferring.has(p)) continue;
        batch.push(p);
        if (batch.length >= BATCH) break;
      }
      if (batch.length === 0) return;
      for (const p of batch) this.dirty.delete(p);
      await this.round(batch);
    }
  }

  /** Head paths of rounds whose file transfers are still running. */
  private readonly transferring = new Set<string>();
  private readonly rounds = new Set<Promise<void>>();

  private slotsFor(headPaths: string[]): Slot[] {
    const { store } = this.o;
    const slots = new Map<string, Slot>();
    for (const headPath of headPaths) {
      const layout = layoutOf(store, headPath, this.o.isCommitted);
      for (const p of [layout.main, ...layout.copies]) {
        if (!p) continue;
        slots.set(p.diskPath, {
          diskPath: p.diskPath,
          headPath,
          desired: p.version,
          current: store.getFile(p.diskPath),
        });
      }
      for (const diskPath of [headPath, ...store.copiesOf(headPath)]) {
        if (slots.has(diskPath)) continue;
        const current = store.getFile(diskPath);
        if (current && current.headPath !== headPath) continue; // belongs to another path
        slots.set(diskPath, { diskPath, headPath, desired: undefined, current });
      }
    }
    return [...slots.values()];
  }

  private async round(headPaths: string[]): Promise<void> {
    const slots = this.slotsFor(headPaths);
    const under = new Map<string, string[]>();
    for (const sl of slots) {
      if (sl.current?.type !== EntryType.Directory || sl.desired !== undefined) continue;
      const paths: string[] = [];
      for await (const [p] of this.o.store.files(K.filesUnder(sl.diskPath))) paths.push(p);
      under.set(sl.diskPath, paths);
    }
    const actions = plan(slots, (dir) => under.get(dir) ?? []);
    if (actions.length === 0) return;
    this.o.logger.debug('reconcile', {
      actions: actions
        .slice(0, 20)
        .map((a) =>
          a.kind === 'move' || a.kind === 'moveDir' ? `${a.kind} ${a.from}->${a.to}` : `${a.kind} ${a.path}`,
        )
        .join(', '),
    });
    const touched = actions.flatMap((a) =>
      a.kind === 'moveDir' ? [a.to, ...a.children.map((c) => c.to)] : [a.kind === 'move' ? a.to : a.path],
    );
    for (const a of actions) if (a.kind === 'move' || a.kind === 'moveDir') this.busyPaths.add(a.from);
    for (const a of actions) if (a.kind === 'moveDir') for (const c of a.children) this.busyPaths.add(c.from);
    for (const p of touched) this.busyPaths.add(p);
    const mismatched: string[] = [];
    const replan = new Set<string>();
    const quick = actions.filter((a) => a.kind !== 'write' || isLink(a.version));
    const files = actions.filter((a) => a.kind === 'write' && !isLink(a.version));
    const removals = quick.filter((a) => a.kind === 'remove' || a.kind === 'rmdir');
    const finish = () => {
      const released: string[] = [...touched];
      for (const a of actions) if (a.kind === 'move' || a.kind === 'moveDir') released.push(a.from);
      for (const a of actions) if (a.kind === 'moveDir') for (const c of a.children) released.push(c.from);
      for (const p of released) this.busyPaths.delete(p);
      this.o.onReleased?.(released);
      this.afterRound(actions, mismatched, replan);
    };
    try {
      await this.locked(
        quick.filter((a) => a.kind !== 'remove' && a.kind !== 'rmdir'),
        mismatched,
        replan,
      );
    } catch (err) {
      finish();
      throw err;
    }
    if (files.length === 0) {
      try {
        await this.locked(removals, mismatched, replan);
      } finally {
        finish();
      }
      return;
    }
    // File contents may take long (a large file, a slow or silent peer): the rest of the
    // queue goes on meanwhile; removals of this round wait (their files may be block sources).
    const heads = new Set(headPaths);
    for (const h of heads) this.transferring.add(h);
    const job = this.writeFiles(files, mismatched, replan)
      .then(() => this.locked(removals, mismatched, replan))
      .catch((err: unknown) => this.o.logger.error('reconcile failed', { error: String(err) }))
      .finally(() => {
        for (const h of heads) this.transferring.delete(h);
        finish();
        this.rounds.delete(job);
        this.kick();
      });
    this.rounds.add(job);
  }

  private afterRound(actions: Action[], mismatched: string[], replan: Set<string>): void {
    if (mismatched.length) {
      // These paths wait until the detector has recorded what the user did there.
      const hit = new Set(mismatched);
      const block = (head: string, paths: string[]) => {
        const waits = this.blocked.get(head) ?? new Set<string>();
        // The path itself, or a folder above it that the user changed.
        for (const m of hit) if (paths.some((p) => isWithin(p, m))) waits.add(m);
        this.blocked.set(head, waits);
      };
      for (const a of actions) {
        const paths = a.kind === 'move' || a.kind === 'moveDir' ? [a.from, a.to] : [a.path];
        if (!paths.some((p) => hit.has(p))) continue;
        if ('headPath' in a) block(a.headPath, paths);
        if ('expect' in a && a.expect) block(a.expect.headPath, paths);
      }
      this.o.onMismatch(mismatched);
    }
    for (const p of replan) this.dirty.add(p);
  }

  /**
   * The detector worked through its queue: heads whose paths it no longer has pending can be
   * planned again. One still pending (e.g. a deletion in its grace period) keeps its head
   * waiting; replanning it now would only find the same mismatch, in a busy loop.
   */
  unblock(pending: (path: string) => boolean): void {
    if (this.blocked.size === 0) return;
    const heads: string[] = [];
    for (const [head, waits] of this.blocked) {
      if ([...waits].some(pending)) continue;
      this.blocked.delete(head);
      heads.push(head);
    }
    if (heads.length) this.schedule(heads);
  }

  /** Run quick actions under the disk lock, with one index transaction. */
  private async locked(actions: Action[], mismatched: string[], replan: Set<string>): Promise<void> {
    if (actions.length === 0) return;
    await this.o.mutex.run(async () => {
      const txn = new Txn(this.o.store);
      for (const a of actions) {
        try {
          await this.quick(txn, a, mismatched, replan);
        } catch (err) {
          this.failed(a, err, replan, mismatched);
        }
      }
      // Index only: no fsync needed. After a crash the scan finds the disk showing the
      // versions the state puts there and relabels them without recording anything.
      await txn.commit(false);
    });
  }

  private async quick(txn: Txn, a: Action, mismatched: string[], replan: Set<string>): Promise<void> {
    const { fs } = this.o;
    switch (a.kind) {
      case 'moveDir': {
        if (!(await this.check(a.from, a.expect, mismatched)) || !(await this.check(a.to, null, mismatched)))
          return;
        await this.ensureParent(a.to, replan, txn);
        await fs.rename(a.from, a.to);
        const st = await fs.lstat(a.to);
        txn.setFile(a.from, null);
        if (st) txn.setFile(a.to, entryFor(st, a.headPath, a.version));
        // Children keep their inode and times; only their names and versions change.
        for (const c of a.children) {
          txn.setFile(c.from, null);
          txn.setFile(c.to, { ...c.expect, headPath: c.headPath, version: c.version?.dot ?? null });
        }
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
        if (!st0) await fs.mkdir(a.path, a.version ? a.version.mode & 0o777 || 0o755 : 0o755);
        const st = await fs.lstat(a.path);
        if (st) txn.setFile(a.path, entryFor(st, a.headPath, a.version));
        return;
      }
      case 'relabel': {
        if (!(await this.check(a.path, a.expect, mismatched))) return;
        let st = await fs.lstat(a.path);
        const v = a.version;
        // A folder made implicitly (for a file inside it) has the default mode: give it its own.
        const mode = v?.kind === Kind.Mkdir ? v.mode & 0o777 || 0o755 : (v?.mode ?? 0) & 0o777;
        const owned =
          (v?.kind === Kind.Put && st?.kind === 'file') || (v?.kind === Kind.Mkdir && st?.kind === 'dir');
        if (st && owned && (st.mode & 0o777) !== mode) {
          await fs.chmod(a.path, mode);
          st = await fs.lstat(a.path);
        }
        if (st) txn.setFile(a.path, entryFor(st, a.headPath, v, a.expect));
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
          // Something unsynced (ignored, or not yet recorded) is still inside: keep the folder.
          if ((err as { code?: string }).code !== 'ERR_NOT_EMPTY') throw err;
          this.o.logger.debug('folder kept: not empty', { path: a.path });
          mismatched.push(a.path);
        }
        return;
      }
    }
  }

  /** Files: assemble in parallel outside the lock, commit each under it. */
  private async writeFiles(actions: Action[], mismatched: string[], replan: Set<string>): Promise<void> {
    const parallel = this.o.parallel ?? 8;
    let next = 0;
    const worker = async () => {
      while (next < actions.length && !this.stopped) {
        const a = actions[next++]!;
        if (a.kind !== 'write') continue;
        try {
          await this.writeFile(a, mismatched, replan);
        } catch (err) {
          this.failed(a, err, replan, mismatched);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, actions.length) }, worker));
  }

  private async writeFile(
    a: Extract<Action, { kind: 'write' }>,
    mismatched: string[],
    replan: Set<string>,
  ): Promise<void> {
    const { fs } = this.o;
    const content = a.version.content;
    if (!content) return;
    if (!(await this.check(a.path, a.expect, mismatched))) return;
    await this.ensureParent(a.path, replan);
    const tmp: TempFile = await fs.createTemp(a.path);
    const transfer: Transfer = { path: a.path, size: content.size, done: 0 };
    this.transfers.set(a.path, transfer);
    try {
      const near = a.expect?.type === EntryType.File ? [a.path] : [];
      const st = await this.o.assembler.fill(tmp, a.path, content, near);
      this.stats.localBytes += st.localBytes;
      this.stats.remoteBytes += st.remoteBytes;
      // The slow part (fsync of data and metadata) outside the disk lock, in parallel.
      await tmp.prepare({ mode: a.version.mode & 0o777, mtimeMs: a.version.mtimeMs });
      await this.submit({ a, tmp, mismatched });
    } catch (err) {
      await tmp.abort().catch(() => {});
      throw err;
    } finally {
      this.transfers.delete(a.path);
    }
  }

  private readonly ready: ReadyFile[] = [];
  private committing = false;

  /** Queue a prepared file for the next group commit; resolves once it is in place. */
  private submit(item: Omit<ReadyFile, 'resolve' | 'reject'>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ready.push({ ...item, resolve, reject });
      if (!this.committing) void this.commitGroups();
    });
  }

  /**
   * Group commit: every prepared file waiting goes in under one disk lock (re-check and
   * rename each, one index transaction), then each touched folder is fsynced once.
   */
  private async commitGroups(): Promise<void> {
    this.committing = true;
    try {
      while (this.ready.length) {
        const group = this.ready.splice(0);
        const outcome = new Map<ReadyFile, unknown>();
        const dirs = new Set<string>();
        await this.o.mutex.run(async () => {
          const txn = new Txn(this.o.store);
          for (const item of group) {
            try {
              const result = await this.commitOne(item);
              if (result) {
                txn.setFile(item.a.path, entryFor(result, item.a.headPath, item.a.version));
                dirs.add(parentOf(item.a.path));
                this.stats.written++;
              }
              outcome.set(item, null);
            } catch (err) {
              outcome.set(item, err);
            }
          }
          await txn.commit(false);
        });
        this.o.logger.debug('written', { n: group.length, first: group[0]?.a.path });
        await Promise.all([...dirs].map((d) => this.o.fs.fsyncDir(d).catch(() => {})));
        for (const item of group) {
          const err = outcome.get(item);
          if (err) item.reject(err);
          else item.resolve();
        }
      }
    } finally {
      this.committing = false;
    }
  }

  private async commitOne({ a, tmp, mismatched }: ReadyFile): Promise<Stat | null> {
    if (a.expect?.type === EntryType.Directory) {
      if (!(await this.check(a.path, a.expect, mismatched))) {
        await tmp.abort();
        return null;
      }
      await this.clear(a.path, a.expect);
    }
    const expect = a.expect?.type === EntryType.Directory ? null : statOf(a.expect);
    try {
      return await tmp.commit(a.path, {
        mode: a.version.mode & 0o777,
        mtimeMs: a.version.mtimeMs,
        expect,
        syncDir: false,
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_TARGET_CHANGED') {
        mismatched.push(a.path); // the local change wins the race; it is recorded, then resolved
        return null;
      }
      throw err;
    }
  }

  /** The disk still shows what the index says (else the user changed it). */
  private async check(path: string, expect: FileEntry | null, mismatched: string[]): Promise<boolean> {
    const st = await this.o.fs.lstat(path);
    if (statMatches(st, expect)) return true;
    mismatched.push(path);
    return false;
  }

  private async clear(path: string, expect: FileEntry | null): Promise<void> {
    if (!expect) return;
    if (expect.type === EntryType.Directory) await this.o.fs.rmdir(path);
    else await this.o.fs.unlink(path);
  }

  /** A file's folder must exist; if it does not yet, create it and let its own round label it. */
  private async ensureParent(path: string, replan: Set<string>, txn?: Txn): Promise<void> {
    const dir = parentOf(path);
    if (dir === '') return;
    const st = await this.o.fs.lstat(dir);
    if (st?.kind === 'dir') return;
    if (st) {
      replan.add(dir); // it must become a folder first: its own layout says so
      throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ERR_PARENT' });
    }
    // A missing folder the index still has was moved or deleted by the user, not yet
    // recorded: making it again here would put remote files where the user no longer has them.
    const index = txn ?? this.o.store;
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

  private failed(a: Action, err: unknown, replan: Set<string>, mismatched: string[]): void {
    const path = a.kind === 'move' || a.kind === 'moveDir' ? a.to : a.path;
    if (err instanceof LocalChangeError) {
      // Like a mismatch: wait until the detector has recorded what the user did to the folder.
      mismatched.push(path, err.path);
      return;
    }
    const head = 'headPath' in a ? a.headPath : a.expect.headPath;
    if (a.kind === 'move' || a.kind === 'moveDir') replan.add(a.expect.headPath); // the source must still be dealt with
    if (a.kind === 'moveDir') for (const c of a.children) replan.add(c.headPath).add(c.expect.headPath);
    if (err instanceof ContentUnavailableError) {
      this.park(head);
      return;
    }
    const code = (err as { code?: string }).code ?? '';
    const ordering =
      code === 'ERR_NOT_FOUND' || code === 'ERR_EXISTS' || code === 'ERR_NOT_EMPTY' || code === 'ERR_PARENT';
    if (ordering && !this.quickRetried.has(head)) {
      // Most likely an ordering effect within the batch: one more round sorts it out.
      this.quickRetried.add(head);
      replan.add(head);
      return;
    }
    this.o.logger.warn('cannot update; will retry', {
      path,
      action: a.kind,
      error: (err as Error).message ?? code,
    });
    this.park(head);
  }

  /** Try this path again later (content missing, disk full, ...), with growing delays. */
  private park(headPath: string): void {
    const attempts = (this.waiting.get(headPath) ?? this.retrying.get(headPath) ?? 0) + 1;
    this.waiting.set(headPath, attempts);
    if (this.retryTimer || this.stopped) return;
    const delay = RETRY_MS[Math.min(attempts - 1, RETRY_MS.length - 1)]!;
    this.retryTimer = this.o.env.setTimer(delay, () => {
      this.retryTimer = null;
      this.retryWaiting();
    });
  }
}

function isLink(v: Version | null): boolean {
  return v?.kind === Kind.Symlink;
}

function statOf(e: FileEntry | null): Stat | null {
  if (!e) return null;
  const kind = e.type === EntryType.File ? 'file' : e.type === EntryType.Directory ? 'dir' : 'link';
  return { kind, size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, mode: e.mode };
}

/** The index entry for what was just put on disk (content from the version, or kept). */
function entryFor(st: Stat, headPath: string, v: Version | null, was?: FileEntry | null): FileEntry {
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
class LocalChangeError extends Error {
  readonly code = 'ERR_LOCAL_CHANGE';
  constructor(readonly path: string) {
    super(`${path}: changed locally, not yet recorded`);
  }
}
