// Making the disk show the replicated state. Synced paths whose versions changed are
// queued; each round lays them out (winner, conflict copies), plans the difference with
// the file index, and carries it out: moves, directories, labels and links under the disk
// lock; file contents assembled into temp files outside it (in parallel, streaming), then
// committed in groups; removals last. Every step first checks that the disk still shows
// what the index says — if not, the user changed it, the detector records that first,
// and the path is planned again.
import { K } from '../log/keys.ts';
import { Txn } from '../log/txn.ts';
import { EntryType } from '../proto/types.ts';
import type { Env, Timer } from '../util/env.ts';
import { BlockedHeads } from './blocked-heads.ts';
import type { ContentAssembler } from './content.ts';
import { DiskSteps, type DiskStepsOptions, isLink, type ReconcileStats } from './disk-steps.ts';
import { actionHead, actionPath, FirstSeen, failureOutcome, sourcesOf } from './failure-rules.ts';
import { FileWriter, type Transfer } from './file-writer.ts';
import type { CommitOracle } from './layout.ts';
import { type Action, plan } from './plan.ts';
import { describeActions, movedFrom, slotsFor, touchedBy } from './round-paths.ts';

export interface ReconcilerOptions extends DiskStepsOptions {
  env: Env;
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

export class Reconciler {
  private readonly dirty = new Set<string>();
  private readonly waiting = new Map<string, number>(); // head path → attempts
  private readonly busyPaths = new Set<string>();
  private readonly quickRetried = new Set<string>();
  private retrying = new Map<string, number>();
  /** Failures already logged at warn level (path and error). */
  private readonly warned = new FirstSeen(1000);
  /** Heads waiting for the detector to record a change the user made under them. */
  private readonly blocked = new BlockedHeads();
  private running: Promise<void> | null = null;
  private retryTimer: Timer | null = null;
  private stopped = false;
  readonly stats: ReconcileStats = { written: 0, moved: 0, removed: 0, localBytes: 0, remoteBytes: 0 };
  private readonly steps: DiskSteps;
  private readonly writer: FileWriter;

  constructor(private readonly o: ReconcilerOptions) {
    this.steps = new DiskSteps(o, this.stats);
    this.writer = new FileWriter(
      {
        ...o,
        stats: this.stats,
        stopped: () => this.stopped,
        failed: (a, err, replan, mismatched) => this.failed(a, err, replan, mismatched),
      },
      this.steps,
    );
  }

  /** Files being assembled now, by path. */
  get transfers(): ReadonlyMap<string, Transfer> {
    return this.writer.transfers;
  }

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

  private async round(headPaths: string[]): Promise<void> {
    const slots = slotsFor(this.o.store, headPaths, this.o.isCommitted);
    const under = new Map<string, string[]>();
    for (const sl of slots) {
      if (sl.current?.type !== EntryType.Directory || sl.desired !== undefined) continue;
      under.set(sl.diskPath, await this.o.store.filePaths(K.filesUnder(sl.diskPath)));
    }
    const actions = plan(slots, (dir) => under.get(dir) ?? []);
    if (actions.length === 0) return;
    this.o.logger.debug('reconcile', { actions: describeActions(actions) });
    const touched = touchedBy(actions);
    const moved = movedFrom(actions);
    for (const p of moved) this.busyPaths.add(p);
    for (const p of touched) this.busyPaths.add(p);
    const mismatched: string[] = [];
    const replan = new Set<string>();
    const quick = actions.filter((a) => a.kind !== 'write' || isLink(a.version));
    const files = actions.filter((a) => a.kind === 'write' && !isLink(a.version));
    const removals = quick.filter((a) => a.kind === 'remove' || a.kind === 'rmdir');
    const finish = () => {
      const released: string[] = [...touched, ...moved];
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
    const job = this.writer
      .writeFiles(files, mismatched, replan)
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
    for (const head of this.blocked.afterRound(actions, mismatched)) {
      this.o.logger.debug('local change not recorded yet; retrying later', { path: head });
      this.park(head);
    }
    if (mismatched.length) this.o.onMismatch(mismatched);
    for (const p of replan) this.dirty.add(p);
  }

  /**
   * The detector worked through its queue: heads whose paths it no longer has pending can be
   * planned again. One still pending (e.g. a deletion in its grace period) keeps its head
   * waiting; replanning it now would only find the same mismatch, in a busy loop.
   */
  unblock(pending: (path: string) => boolean): void {
    if (this.blocked.size === 0) return;
    const heads = this.blocked.release(pending);
    if (heads.length) this.schedule(heads);
  }

  /** Run quick actions under the disk lock, with one index transaction. */
  private async locked(actions: Action[], mismatched: string[], replan: Set<string>): Promise<void> {
    if (actions.length === 0) return;
    await this.o.mutex.run(async () => {
      const txn = new Txn(this.o.store);
      for (const a of actions) {
        try {
          await this.steps.quick(txn, a, mismatched, replan);
        } catch (err) {
          this.failed(a, err, replan, mismatched);
        }
      }
      // Index only: no fsync needed. After a crash the scan finds the disk showing the
      // versions the state puts there and relabels them without recording anything.
      await txn.commit(false);
    });
  }

  private failed(a: Action, err: unknown, replan: Set<string>, mismatched: string[]): void {
    const path = actionPath(a);
    const head = actionHead(a);
    const outcome = failureOutcome(err, path, !this.quickRetried.has(head));
    if (outcome.kind === 'mismatch') {
      mismatched.push(...outcome.paths);
      return;
    }
    for (const h of sourcesOf(a)) replan.add(h);
    if (outcome.kind === 'again') {
      this.quickRetried.add(head);
      replan.add(head);
      return;
    }
    if (outcome.kind === 'retry') {
      // Every retry (each peer connection triggers one) fails the same way until something
      // changes: said once at warn level, the repeats at debug level.
      const level = this.warned.first(`${path}\0${outcome.error}`) ? 'warn' : 'debug';
      this.o.logger[level]('cannot update; will retry', { path, action: a.kind, error: outcome.error });
    }
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
