// What follows an append to the log, for local and remote operations alike: the paths
// they touched are laid out (unless the disk already shows them), peers are offered the
// operations, conflicts are tracked, and the quorum hears how far the log is durable.
// Remote operations are appended without waiting for the disk (they are applied at once);
// one synced write shortly after makes all of them durable, and only then are they
// acknowledged. A crash before it loses them from this log, and peers resend.
import type { Store } from '../log/store.ts';
import { isTombstoneKind } from '../model/version.ts';
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import type { ClusterGossip } from './cluster-gossip.ts';
import type { Ingested } from './ingest.ts';
import type { Session } from './session.ts';

/** Conflicts are laid out again at most this often as commit knowledge changes. */
const CONFLICT_RELAYOUT_MS = 50;

export interface AppendFlowOptions {
  store: Store;
  env: Env;
  logger: Logger;
  gossip: ClusterGossip;
  sessions: ReadonlyMap<string, Session>;
  /** Lay these paths out (the reconciler). */
  schedule: (paths: Iterable<string>) => void;
}

export class AppendFlow {
  /** Paths with more than one live version: their winner may change as commits become known. */
  readonly conflicted = new Set<string>();
  /** During the start-up scan: paths it recorded exactly as the disk shows them. */
  scanSettled: Set<string> | null = null;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private conflictTimer: Timer | null = null;
  private stopped = false;

  constructor(private readonly o: AppendFlowOptions) {}

  /** Operations this node made from what its disk shows (they are synced already). */
  recorded(ops: Ingested[], unsettled: Iterable<string> = []): void {
    if (ops.length) this.o.logger.debug('recorded', { ops: ops.length, first: ops[0]!.op.path });
    // Where the new version is the only live one, the disk already is the layout and the
    // reconciler has nothing to do (a start-up scan of 100,000 files planned each of them
    // for nothing).
    const shown = new Set<string>();
    for (const i of ops) {
      for (const p of i.affected) shown.delete(p);
      for (const p of i.alone) shown.add(p);
    }
    this.appended(ops, unsettled, true, shown);
  }

  /** A peer's operations, appended and not yet synced. */
  received(ops: Ingested[]): void {
    this.o.logger.debug('appended', { ops: ops.length, first: ops[0]?.op.path });
    this.appended(ops, [], false);
  }

  /** A conflict's winner depends on what is committed: look again when that may have changed. */
  relayoutConflicts(): void {
    if (this.conflicted.size === 0 || this.conflictTimer || this.stopped) return;
    this.conflictTimer = this.o.env.setTimer(CONFLICT_RELAYOUT_MS, () => {
      this.conflictTimer = null;
      if (!this.stopped) this.o.schedule(this.conflicted);
    });
  }

  stop(): void {
    this.stopped = true;
    this.conflictTimer?.cancel();
    this.checkTimer?.cancel();
  }

  /** Resolves once a log sync under way (if any) is done. */
  async synced(): Promise<void> {
    await this.syncing;
  }

  private appended(
    ops: Ingested[],
    extra: Iterable<string>,
    durable: boolean,
    settled: ReadonlySet<string> = new Set(),
  ): void {
    const { store, gossip } = this.o;
    const extras = new Set<string>(extra);
    const affected = new Set<string>(extras);
    for (const i of ops) for (const p of i.affected) affected.add(p);
    this.noteConflictsSoon(affected);
    for (const i of ops) gossip.noteRefused(i.refused);
    // What we tell others we hold (the quorum's acknowledgement) must be on disk.
    if (durable) this.acknowledge(store.clock());
    for (const s of this.o.sessions.values()) s.offer(ops);
    const toPlan = [...affected].filter((p) => !settled.has(p) || extras.has(p));
    if (this.scanSettled) {
      for (const p of toPlan) this.scanSettled.delete(p);
      for (const p of settled) if (!extras.has(p)) this.scanSettled.add(p);
    }
    if (toPlan.length) this.o.schedule(toPlan);
    // After planning has started: preparing the batch took ~0.2 ms of a single arriving
    // file's path to the disk, and only the acknowledgement waits for it.
    if (!durable) this.syncSoon();
    gossip.soon();
  }

  private readonly toCheck = new Set<string>();
  private checkTimer: Timer | null = null;

  /**
   * Which of these paths hold more than one live version, looked up once the operations
   * have left and their paths are planned: a folder rename's 2,000 paths took 12-21 ms on
   * each side, before the RENAME was sent and before the peer planned it.
   */
  private noteConflictsSoon(paths: Iterable<string>): void {
    for (const p of paths) this.toCheck.add(p);
    if (this.checkTimer || this.toCheck.size === 0 || this.stopped) return;
    this.checkTimer = this.o.env.setTimer(0, () => {
      this.checkTimer = null;
      this.noteConflicts();
    });
  }

  /** Bring `conflicted` up to date with the paths queued by noteConflictsSoon. */
  private noteConflicts(): void {
    let gained = false;
    for (const p of this.toCheck) {
      const live = this.o.store.kindsAt(p).filter((k) => !isTombstoneKind(k)).length;
      if (live <= 1) this.conflicted.delete(p);
      else if (!this.conflicted.has(p)) {
        this.conflicted.add(p);
        gained = true;
      }
    }
    this.toCheck.clear();
    if (gained) this.relayoutConflicts();
  }

  /** Publish (by gossip) that everything up to `clock` is durably in our log. */
  private acknowledge(clock: ReturnType<Store['clock']>): void {
    this.o.gossip.acknowledge(clock);
    this.relayoutConflicts();
  }

  private syncSoon(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    const clock = this.o.store.clock();
    this.syncing = this.o.store
      .sync()
      .then(
        () => this.acknowledge(clock),
        (err: unknown) => this.o.logger.error('cannot sync the log', { error: String(err) }),
      )
      .finally(() => {
        this.syncing = null;
        if (this.syncAgain && !this.stopped) {
          this.syncAgain = false;
          this.syncSoon();
        }
      });
  }
}
