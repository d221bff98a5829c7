// Live change detection: watcher events become operations. Each path settles for a few
// milliseconds (events for it within the window restart the wait), then is looked at:
// unchanged paths (our own writes included) cost one lstat; changed files are hashed
// outside the disk lock, re-checked under it, and recorded in one transaction per batch.
// A path that disappears waits a short grace period for its new name to show up, so a
// rename becomes one RENAME rather than a delete and a create.

import { AncestorError } from '../fs/ancestor-error.ts';
import type { IgnoreRules } from '../fs/ignore.ts';
import { isValidPath, isWithin } from '../fs/paths.ts';
import type { FileSystem } from '../fs/types.ts';
import type { WatchEvent } from '../fs/watcher/types.ts';
import type { Store } from '../log/store.ts';
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import type { Mutex } from '../util/mutex.ts';
import type { Ingested } from './ingest.ts';
import { type Found, type LookContext, lookAtPath } from './look-at.ts';
import type { Observation } from './observe.ts';
import { recordObserved } from './record-observed.ts';
import type { Recorder } from './recorder.ts';
import { MOVED_RECHECK_MS } from './settle-rules.ts';
import { walk } from './walk.ts';

export interface DetectorOptions {
  fs: FileSystem;
  store: Store;
  env: Env;
  logger: Logger;
  ignore: () => IgnoreRules;
  mutex: Mutex;
  recorder: Recorder;
  onRecorded: (ops: Ingested[], unsettled: Iterable<string>) => void;
  /** Quiet time before a changed path is looked at. */
  settleMs: number;
  /** How long a vanished path waits for a rename partner before it counts as deleted. */
  goneGraceMs: number;
  /** Hold back paths the reconciler is writing right now. */
  isBusy: (path: string) => boolean;
  /** Called whenever the queue has been worked through (the reconciler may retry blocked paths). */
  onDrained?: () => void;
  /** While false (a vanished or unmounted folder), disappearances are not recorded. */
  deletesAllowed: () => Promise<boolean>;
}

const MAX_BATCH = 512;
/**
 * The first batch after a quiet spell is this small, then each full one doubles: the first
 * operations of a burst reach peers (which start writing) while the rest is hashed. A
 * 5,000-file burst's first 490 operations were recorded 0.8 s after its first event.
 */
const FIRST_BATCH = 32;
const EXAMINE_PARALLEL = 8;
export class Detector {
  private readonly due = new Map<string, number>();
  private readonly vanished = new Map<string, number>();
  private readonly held = new Set<string>();
  private timer: Timer | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly warned = new Set<string>();

  /** What looking at one path needs from the detector (look-at.ts). */
  private readonly look: LookContext;

  constructor(private readonly o: DetectorOptions) {
    this.look = {
      fs: o.fs,
      store: o.store,
      env: o.env,
      logger: o.logger,
      ignore: o.ignore,
      vanished: this.vanished,
      touch: (paths, delayMs) => this.touch(paths, delayMs),
      retryLater: (path, err) => this.retryLater(path, err),
    };
  }

  /** Watcher events: something may have changed at these paths. */
  notify(events: WatchEvent[]): void {
    if (this.o.logger !== undefined && events.length < 4)
      this.o.logger.debug('event', { path: events[0]?.path, n: events.length });
    this.touch(events.map((e) => e.path));
  }

  touch(paths: Iterable<string>, delayMs = this.o.settleMs): void {
    if (this.stopped) return;
    const at = this.o.env.now() + delayMs;
    for (const p of paths) {
      if (p === '' || !isValidPath(p)) {
        if (p !== '' && !this.o.ignore().ignores(p, false)) this.warnOnce(p);
        continue;
      }
      if (this.o.ignore().ignores(p, false)) continue;
      this.due.set(p, at);
    }
    this.arm(at);
  }

  /** The reconciler is done with these paths: look at any that were held back meanwhile. */
  release(paths: Iterable<string>): void {
    const back: string[] = [];
    for (const p of paths) if (this.held.delete(p)) back.push(p);
    if (back.length) this.touch(back, 0);
  }

  /** Nothing queued, waiting or being recorded. */
  get idle(): boolean {
    return this.due.size === 0 && this.vanished.size === 0 && this.held.size === 0 && this.running === null;
  }

  /** This path is queued, held back or in its deletion grace period. */
  isPending(path: string): boolean {
    return this.due.has(path) || this.vanished.has(path) || this.held.has(path);
  }

  /** Paths strictly below `dir` that are queued, held back or in their deletion grace period. */
  pendingUnder(dir: string): string[] {
    const out: string[] = [];
    for (const m of [this.due.keys(), this.vanished.keys(), this.held.values()])
      for (const p of m) if (p !== dir && isWithin(p, dir)) out.push(p);
    return out;
  }

  get pending(): number {
    return this.due.size + this.vanished.size;
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  private warnOnce(path: string): void {
    if (this.warned.size > 1000 || this.warned.has(path)) return;
    this.warned.add(path);
    this.o.logger.warn('name cannot be synced; skipped', { path });
  }

  private arm(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.o.env.setTimer(Math.max(0, at - this.o.env.now()), () => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain()
      .catch((err: unknown) => this.o.logger.error('change detection failed', { error: String(err) }))
      .finally(() => {
        this.running = null;
        this.rearm();
        this.o.onDrained?.();
      });
  }

  private rearm(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.due.values()) next = Math.min(next, at);
    for (const since of this.vanished.values()) next = Math.min(next, since + this.o.goneGraceMs);
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const now = this.o.env.now();
      const batch: string[] = [];
      for (const [p, at] of this.due) {
        if (at > now) continue;
        if (this.o.isBusy(p)) {
          this.due.delete(p);
          this.held.add(p); // the reconciler is writing it: looked at once it is done (release)
          continue;
        }
        batch.push(p);
        this.due.delete(p);
        if (batch.length >= this.batchCap) break;
      }
      const expired = [...this.vanished]
        .filter(([, since]) => since + this.o.goneGraceMs <= now)
        .map(([p]) => p);
      if (batch.length === 0 && expired.length === 0) {
        this.batchCap = FIRST_BATCH;
        return;
      }
      await this.examine(batch, expired);
      if (this.stopped) return;
    }
  }

  /** How many paths the next batch looks at (see FIRST_BATCH). */
  private batchCap = FIRST_BATCH;

  /** Look at a batch of paths and record what changed. */
  private async examine(paths: string[], expired: string[]): Promise<void> {
    const observed = new Map<string, Observation>();
    const gone = new Set<string>();
    const queue = [...paths];
    const seen = new Set<string>();
    const listLater: string[] = [];
    const found: Found = { observed, queue, listLater };
    const lookAt = (p: string) => lookAtPath(this.look, p, found);
    // Several paths at once: stat and hashing wait on the disk, not on each other.
    // A new folder's walk can queue thousands of paths: past the batch cap the rest go back to
    // the queue, so the first operations are recorded (and sent) while the rest are hashed.
    let next = 0;
    const cap = this.batchCap;
    const worker = async () => {
      while (next < queue.length && next < cap) {
        const p = queue[next++]!;
        if (seen.has(p)) continue;
        seen.add(p);
        try {
          await lookAt(p);
        } catch (err) {
          // Below a symlink (never followed): not something we can sync. Anything else (an
          // I/O error) is looked at again later. Either way the rest of the batch goes on.
          if (err instanceof AncestorError)
            this.o.logger.debug('cannot look at path', { path: p, error: err.message });
          else this.retryLater(p, err);
        }
      }
    };
    await Promise.all(Array.from({ length: EXAMINE_PARALLEL }, worker));
    if (next >= cap) this.batchCap = Math.min(MAX_BATCH, cap * 2);
    if (next < queue.length) this.touch(queue.slice(next), 0);
    for (const p of expired) gone.add(p);
    try {
      await recordObserved(
        this.o,
        { vanished: this.vanished, touch: (p, d) => this.touch(p, d) },
        observed,
        gone,
      );
    } finally {
      await this.touchListed(listLater);
    }
  }

  /**
   * Queue everything the listings of moved folders show: entries new or changed in the
   * moment of the move, which inotify reports no events for. Names only (files are not
   * stat'ed here: each path is looked at once anyway, as one of the paths indexed below the
   * new name, and the queue holds a path once).
   */
  private async touchListed(dirs: string[]): Promise<void> {
    for (const dir of dirs) {
      try {
        // The whole tree: a subfolder moved along matches its index entry whatever it holds.
        const listed = await walk(this.o.fs, dir, {
          ignore: this.o.ignore(),
          recursive: true,
          statFiles: false,
        });
        this.touch(listed.keys(), MOVED_RECHECK_MS);
      } catch (err) {
        this.retryLater(dir, err);
      }
    }
  }

  private retryLater(path: string, err: unknown): void {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_CHANGED_WHILE_READING') {
      this.touch([path]); // still being written: look again once it settles
      return;
    }
    if (code === 'ERR_NOT_FOUND') {
      this.o.logger.info('file vanished while being read; looking again', { path });
      this.touch([path]);
      return;
    }
    this.o.logger.warn('cannot read; will retry', { path, error: (err as Error).message ?? String(err) });
    this.touch([path], 1000);
  }
}
