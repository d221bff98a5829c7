// One replica: the operation log, the folder, and the links to its peers. Everything it
// touches comes in through interfaces (FileSystem, watcher factory, Env, PeerLink), so the
// daemon and the simulator run this very code. Data flow of one change:
//   watcher event → Detector (settle, lstat, hash) → Recorder (operation) → log (one
//   synced batch) → every Session pushes it → peer's Session → ingestRemote (validated,
//   appended) → Reconciler (layout, plan, fetch blocks, temp file, rename) → disk.
import { Members } from '../cluster/members.ts';
import { committedPrefix, uncommittedCount } from '../cluster/quorum.ts';
import { createIgnoreRules, IGNORE_FILE, type IgnoreRules, parseIgnoreFile } from '../fs/ignore.ts';
import type { FileSystem } from '../fs/types.ts';
import type { WatchEvent, Watcher } from '../fs/watcher/types.ts';
import type { Store } from '../log/store.ts';
import { Txn } from '../log/txn.ts';
import { isTombstoneKind } from '../model/version.ts';
import { LogLimiter } from '../net/log-limit.ts';
import type { PeerLink } from '../net/types.ts';
import { FramePool } from '../proto/frame-pool.ts';
import { blockReplyFrame, missingReplyFrame } from '../proto/reply-frame.ts';
import type { BlockReply, BlockRequest, Gossip, MemberSummary, Operation, Version } from '../proto/types.ts';
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import { Mutex } from '../util/mutex.ts';
import { ContentAssembler, readRange } from './content.ts';
import { Detector } from './detector.ts';
import { Fetcher } from './fetcher.ts';
import { type Ingested, ingest } from './ingest.ts';
import { LocalBlocks } from './local-blocks.ts';
import { MajorityWatch } from './majority-watch.ts';
import { Reconciler } from './reconciler.ts';
import { Recorder } from './recorder.ts';
import { type ScanProgress, type ScanResult, scan } from './scanner.ts';
import { Session, type SessionHost } from './session.ts';
import { clockProblem, isOrigin, LIMITS } from './validate.ts';

/**
 * A file of ours inside the folder. If it vanishes while the index knows files, the folder
 * was most likely unmounted or replaced: deletions are then not sent to peers.
 */
export interface FolderMarker {
  present(): Promise<boolean>;
  create(nodeId: string): Promise<void>;
}

/** Spare block reply buffers kept (the link's high-water mark's worth), and how long unused. */
const FRAME_POOL_BYTES = 8 * 1024 * 1024;
const FRAME_POOL_IDLE_MS = 2_000;

/** Conflicts are laid out again at most this often as commit knowledge changes. */
const CONFLICT_RELAYOUT_MS = 50;

export interface NodeOptions {
  store: Store;
  fs: FileSystem;
  env: Env;
  logger: Logger;
  /** Starts watching the folder; null = no watcher (tests drive notify() themselves). */
  watch: ((onEvents: (events: WatchEvent[]) => void, ignore: () => IgnoreRules) => Watcher) | null;
  clusterSize: number;
  settleMs?: number;
  goneGraceMs?: number;
  antiEntropyMs?: number;
  /** The address peers can dial us at (announced in gossip). */
  listen?: string;
  onScanProgress?: (p: ScanProgress) => void;
  /** Remove temp files a crash left behind (DiskFs provides it). */
  cleanTemps?: () => Promise<number>;
  marker?: FolderMarker;
}

export class Node implements SessionHost {
  readonly store: Store;
  readonly logger: Logger;
  readonly sessions = new Map<string, Session>();
  private readonly mutex = new Mutex();
  private readonly detector: Detector;
  private readonly reconciler: Reconciler;
  private readonly fetcher: Fetcher;
  /** Block reply frames, reused once sent (proto/frame-pool.ts). */
  private readonly frames: FramePool;
  private readonly localBlocks: LocalBlocks;
  private readonly recorder: Recorder;
  private ignore: IgnoreRules = createIgnoreRules();
  private watcher: Watcher | null = null;
  private antiEntropy: Timer | null = null;
  private started = false;
  private stopping = false;
  private markerMissingLogged = false;
  scanResult: ScanResult | null = null;
  readonly counters = { opsLocal: 0, opsRemote: 0 };
  readonly members: Members;
  /** Paths with more than one live version: their winner may change as commits become known. */
  private readonly conflicted = new Set<string>();
  private readonly majority: MajorityWatch;

  constructor(private readonly o: NodeOptions) {
    this.store = o.store;
    this.logger = o.logger;
    this.members = new Members({
      nodeId: o.store.nodeId,
      origin: o.store.origin,
      clusterSize: o.clusterSize,
      listen: o.listen ?? '',
      now: () => o.env.now(),
    });
    this.majority = new MajorityWatch({
      members: this.members,
      env: o.env,
      logger: o.logger,
      reachable: () => this.members.reachable(new Set(this.sessions.keys()), this.freshMs).length,
    });
    const isCommitted = (path: string, v: Version) => this.members.isCommitted(path, v);
    this.recorder = new Recorder({ store: o.store, now: () => o.env.now(), isCommitted });
    this.fetcher = new Fetcher(() => this.sessions.values(), o.env);
    this.frames = new FramePool(FRAME_POOL_BYTES, (fn) => void o.env.setTimer(FRAME_POOL_IDLE_MS, fn));
    this.localBlocks = new LocalBlocks(o.fs, o.store, o.env);
    this.reconciler = new Reconciler({
      fs: o.fs,
      ignore: () => this.ignore,
      pendingUnder: (dir) => this.detector.pendingUnder(dir),
      store: o.store,
      env: o.env,
      logger: o.logger,
      mutex: this.mutex,
      assembler: new ContentAssembler(this.localBlocks, this.fetcher),
      isCommitted,
      onMismatch: (paths) => this.detector.touch(paths, 0),
      onReleased: (paths) => this.detector.release(paths),
    });
    this.detector = new Detector({
      fs: o.fs,
      store: o.store,
      env: o.env,
      logger: o.logger,
      ignore: () => this.ignore,
      mutex: this.mutex,
      recorder: this.recorder,
      onRecorded: (ops, unsettled) => this.recorded(ops, unsettled),
      settleMs: o.settleMs ?? 1,
      goneGraceMs: o.goneGraceMs ?? 50,
      isBusy: (p) => this.reconciler.isBusy(p),
      onDrained: () => this.reconciler.unblock((p) => this.detector.isPending(p)),
      deletesAllowed: () => this.markerPresent(),
    });
  }

  get nodeId(): string {
    return this.store.nodeId;
  }

  /** Mark the folder, watch it, scan what changed while we were away, and go live. */
  async start(): Promise<void> {
    const { fs } = this.o;
    this.members.load(await this.store.members(), await this.store.refusals());
    this.members.updateSelf(this.store.clock());
    const markerThere = await this.markerPresent();
    const hadIndex = (await this.store.indexEmpty()) === false;
    if (!markerThere) {
      if (hadIndex) {
        this.logger.error(
          'folder marker missing: the folder looks replaced or unmounted; not sending deletions',
          {
            folder: fs.root,
          },
        );
      }
      await this.o.marker?.create(this.store.nodeId);
    }
    const removed = (await this.o.cleanTemps?.()) ?? 0;
    if (removed) this.logger.info('removed temp files left by an interrupted transfer', { count: removed });
    await this.loadIgnore();
    if (this.o.watch) {
      this.watcher = this.o.watch(
        (events) => this.onWatch(events),
        () => this.ignore,
      );
      await this.watcher.ready();
    }
    this.scanSettled = new Set();
    const settled = this.scanSettled;
    this.scanResult = await scan({
      fs,
      store: this.store,
      ignore: this.ignore,
      logger: this.logger,
      mutex: this.mutex,
      recorder: this.recorder,
      onRecorded: (ops, unsettled) => this.recorded(ops, unsettled),
      onProgress: this.o.onScanProgress,
      deletesAllowed: markerThere || !hadIndex,
    }).finally(() => {
      this.scanSettled = null;
    });
    // Anything the log says but the disk does not show yet (a crash mid-transfer, or ops
    // that arrived while we were down): lay it out now.
    // Paths the scan just recorded as the disk shows them are laid out already (planning a
    // 2 GiB file decoded its 27,000-block list twice for nothing: ~16 MiB of RSS).
    const all: string[] = [];
    for await (const [path, kinds] of this.store.headKinds()) {
      if (!settled.has(path)) all.push(path);
      if (kinds.filter((k) => !isTombstoneKind(k)).length > 1) this.conflicted.add(path);
    }
    this.reconciler.schedule(all);
    this.majority.check();
    this.started = true;
    this.armAntiEntropy();
  }

  private async markerPresent(): Promise<boolean> {
    if (!this.o.marker) return true;
    const ok = await this.o.marker.present().catch(() => false);
    if (!ok && this.started && !this.markerMissingLogged) {
      this.markerMissingLogged = true;
      this.logger.error('folder marker vanished: is the folder unmounted? not sending deletions', {
        folder: this.o.fs.root,
      });
    }
    if (ok) this.markerMissingLogged = false;
    return ok;
  }

  private async loadIgnore(): Promise<void> {
    const st = await this.o.fs.lstat(IGNORE_FILE);
    if (st?.kind !== 'file') {
      this.ignore = createIgnoreRules();
      return;
    }
    const data = await readRange(this.o.fs, IGNORE_FILE, 0, Math.min(st.size, 1 << 20));
    this.ignore = createIgnoreRules(parseIgnoreFile(Buffer.from(data ?? new Uint8Array()).toString('utf8')));
  }

  private onWatch(events: WatchEvent[]): void {
    if (this.stopping) return;
    if (events.some((e) => e.path === IGNORE_FILE)) {
      this.loadIgnore().catch((err: unknown) =>
        this.logger.warn('cannot read ignore file', { error: String(err) }),
      );
    }
    this.detector.notify(events);
  }

  /** Watcher-less drivers (tests) report changes here. */
  notify(paths: string[]): void {
    this.detector.touch(paths);
  }

  /** During the start-up scan: paths it recorded exactly as the disk shows them. */
  private scanSettled: Set<string> | null = null;
  private pendingRefusals: MemberSummary['refused'] = [];
  private syncing: Promise<void> | null = null;
  private syncAgain = false;

  /** Publish (by gossip) that everything up to `clock` is durably in our log. */
  private acknowledge(clock: ReturnType<Store['clock']>): void {
    this.members.updateSelf(clock, this.pendingRefusals.splice(0));
    this.gossipSoon();
    this.relayoutConflicts();
  }

  private conflictTimer: Timer | null = null;
  /** A conflict's winner depends on what is committed: look again when that may have changed. */
  private relayoutConflicts(): void {
    if (this.conflicted.size === 0 || this.conflictTimer || this.stopping) return;
    this.conflictTimer = this.o.env.setTimer(CONFLICT_RELAYOUT_MS, () => {
      this.conflictTimer = null;
      if (!this.stopping) this.reconciler.schedule(this.conflicted);
    });
  }

  /**
   * Remote operations are appended without waiting for the disk (they are applied at
   * once); one synced write shortly after makes all of them durable, and only then are
   * they acknowledged. A crash before it loses them from this log, and peers resend.
   */
  private syncSoon(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    const clock = this.store.clock();
    this.syncing = this.store
      .sync()
      .then(
        () => this.acknowledge(clock),
        (err: unknown) => this.logger.error('cannot sync the log', { error: String(err) }),
      )
      .finally(() => {
        this.syncing = null;
        if (this.syncAgain && !this.stopping) {
          this.syncAgain = false;
          this.syncSoon();
        }
      });
  }

  private recorded(ops: Ingested[], unsettled: Iterable<string> = []): void {
    this.counters.opsLocal += ops.length;
    if (ops.length) this.logger.debug('recorded', { ops: ops.length, first: ops[0]!.op.path });
    // Made from what the disk shows: where the new version is the only live one, the disk
    // already is the layout and the reconciler has nothing to do (a start-up scan of
    // 100,000 files planned each of them for nothing).
    const shown = new Set<string>();
    for (const i of ops) {
      for (const p of i.affected) shown.delete(p);
      for (const p of i.alone) shown.add(p);
    }
    this.afterAppend(ops, unsettled, true, shown);
  }

  private afterAppend(
    ops: Ingested[],
    extra: Iterable<string> = [],
    durable = true,
    settled: ReadonlySet<string> = new Set(),
  ): void {
    const extras = new Set<string>(extra);
    const affected = new Set<string>(extras);
    for (const i of ops) for (const p of i.affected) affected.add(p);
    for (const p of affected) {
      const live = this.store.kindsAt(p).filter((k) => !isTombstoneKind(k)).length;
      if (live > 1) this.conflicted.add(p);
      else this.conflicted.delete(p);
    }
    for (const i of ops) this.pendingRefusals.push(...i.refused);
    // What we tell others we hold (the quorum's acknowledgement) must be on disk.
    if (durable) this.acknowledge(this.store.clock());
    for (const s of this.sessions.values()) s.offer(ops);
    const toPlan = [...affected].filter((p) => !settled.has(p) || extras.has(p));
    if (this.scanSettled) {
      for (const p of toPlan) this.scanSettled.delete(p);
      for (const p of settled) if (!extras.has(p)) this.scanSettled.add(p);
    }
    if (toPlan.length) this.reconciler.schedule(toPlan);
    // After planning has started: preparing the batch took ~0.2 ms of a single arriving
    // file's path to the disk, and only the acknowledgement waits for it.
    if (!durable) this.syncSoon();
    this.gossipSoon();
  }

  // --- peers -------------------------------------------------------------------------

  attach(link: PeerLink): void {
    const old = this.sessions.get(link.peer.nodeId);
    if (old && !old.isClosed) old.close('replaced by a newer link', false);
    const s = new Session(link, this, () => this.o.env.now());
    this.sessions.set(link.peer.nodeId, s);
    this.logOnce(`link ${link.peer.nodeId}`, 'peer connected', {
      peer: link.peer.nodeId,
      address: link.peer.address,
    });
    s.start();
    s.send({ gossip: { members: this.members.summaries() } });
    this.fetcher.onSessionOpened();
    this.majority.check();
  }

  private violationLog: LogLimiter | null = null;
  private linkLog: LogLimiter | null = null;

  /** Connection churn (a flapping or hostile peer) must not flood the log. */
  private logOnce(key: string, msg: string, fields: Record<string, string | number | undefined>): void {
    this.linkLog ??= new LogLimiter(this.o.env, 10_000);
    const ok = this.linkLog.allow(key);
    if (ok) this.logger.info(msg, { ...fields, suppressed: ok.suppressed || undefined });
  }

  onViolation(session: Session, reason: string, violation: boolean): void {
    if (!violation) {
      this.logger.warn('closing link', { peer: session.peerId, reason });
      return;
    }
    // Once per peer and kind of violation a minute: each kind is on record, a flood is not.
    this.violationLog ??= new LogLimiter(this.o.env);
    const kind = reason
      .replace(/\S+~\S+:\d+/g, '')
      .replace(/\d+/g, 'N')
      .slice(0, 100);
    const allowed = this.violationLog.allow(`${session.peerId} ${kind}`);
    if (allowed) {
      this.logger.warn('peer broke the protocol; link dropped', {
        peer: session.peerId,
        address: session.link.peer.address,
        reason: reason.slice(0, 300),
        suppressed: allowed.suppressed || undefined,
      });
    }
  }

  onWelcome(_session: Session): void {
    this.reconciler.retryWaiting();
  }

  onClose(session: Session, reason: string): void {
    if (this.sessions.get(session.peerId) === session) this.sessions.delete(session.peerId);
    this.fetcher.onSessionClosed(session);
    if (!this.stopping) {
      this.logOnce(`unlink ${session.peerId}`, 'peer disconnected', { peer: session.peerId, reason });
      this.majority.check();
    }
  }

  async ingestRemote(ops: { op: Operation; bytes: Uint8Array }[], from: Session): Promise<boolean> {
    // Only this replica makes operations of its own origin: a peer offering new ones is
    // lying (or replaying a wiped log), and accepting them would reuse our sequence numbers.
    const forged = ops.find(
      ({ op }) => op.origin === this.store.origin && op.seq > this.store.held(op.origin),
    );
    if (forged) {
      from.close(
        `peer sent operation ${forged.op.origin}:${forged.op.seq} of our own origin that we never made`,
      );
      return false;
    }
    let gap = false;
    const done = await this.mutex.run(async () => {
      const txn = new Txn(this.store);
      const out: Ingested[] = [];
      for (const { op, bytes } of ops) {
        const held = txn.held(op.origin);
        if (op.seq <= held) continue; // already have it
        if (op.seq > held + 1) {
          gap = true;
          continue;
        }
        out.push(ingest(txn, op, bytes, this.o.env.now()));
      }
      await txn.commit(false);
      return out;
    });
    if (done.length) {
      this.counters.opsRemote += done.length;
      this.logger.debug('appended', { ops: done.length, first: done[0]!.op.path });
      this.afterAppend(done, [], false);
    }
    return gap;
  }

  async serveBlock(req: BlockRequest): Promise<Uint8Array> {
    if (req.length <= 0 || req.length > LIMITS.blockBytes || req.hash.length !== 32)
      return missingReplyFrame(req.id);
    const block = { offset: req.offsetHint, length: req.length, hash: req.hash };
    // Read from disk straight into the reply frame (no copy, one buffer).
    const { frame, data } = blockReplyFrame(req.id, req.length, (n) => this.frames.take(n));
    const found = await this.localBlocks
      .read(block, req.pathHint ? [req.pathHint] : [], data)
      .catch((err: unknown) => {
        this.frames.give(frame);
        throw err;
      });
    if (found) return frame;
    this.frames.give(frame);
    return missingReplyFrame(req.id);
  }

  frameSent(frame: Uint8Array): void {
    this.frames.give(frame);
  }

  onBlockReply(session: Session, reply: BlockReply): void {
    this.fetcher.onReply(session, reply);
  }

  onGossip(session: Session, gossip: Gossip): void {
    let changed = false;
    for (const m of gossip.members.slice(0, 256)) {
      if (!isOrigin(m.origin) || clockProblem(m.logClock)) continue;
      if (m.nodeId === session.peerId) session.notePeerClock(m.logClock);
      if (!this.members.apply(m)) continue;
      changed = true;
      if (m.nodeId !== this.store.nodeId) {
        this.relay.set(m.nodeId, m);
        this.store.putMember(m).catch(() => {});
      }
    }
    if (!changed) return;
    this.gossipSoon();
    this.majority.check();
    // Commit knowledge changed: conflicts may now have a different winner.
    this.relayoutConflicts();
  }

  private readonly relay = new Map<string, MemberSummary>();
  private gossipQueued = false;
  /** Send our summary, and relay news about others, to every peer (coalesced). */
  private gossipSoon(): void {
    if (this.gossipQueued) return;
    this.gossipQueued = true;
    queueMicrotask(() => {
      this.gossipQueued = false;
      const members = [this.members.ownSummary(), ...this.relay.values()];
      this.relay.clear();
      for (const s of this.sessions.values()) s.send({ gossip: { members } });
    });
  }

  private get freshMs(): number {
    return 3 * (this.o.antiEntropyMs ?? 10_000);
  }

  /** Cluster view for status: who is reachable, what is committed. */
  clusterView() {
    const reachable = this.members.reachable(new Set(this.sessions.keys()), this.freshMs);
    const prefix = committedPrefix(this.members.views(), this.members.size);
    return {
      size: this.members.size,
      quorum: this.members.quorum,
      reachable,
      majorityReachable: reachable.length >= this.members.quorum,
      uncommitted: uncommittedCount(this.store.clock(), prefix),
      conflicts: this.conflicted.size,
    };
  }

  private armAntiEntropy(): void {
    const ms = this.o.antiEntropyMs ?? 10_000;
    this.antiEntropy = this.o.env.setTimer(ms, () => {
      if (this.stopping) return;
      for (const s of this.sessions.values()) s.restate();
      // Re-announce ourselves so members reached only through others stay "fresh".
      this.members.updateSelf(this.store.clock());
      this.gossipSoon();
      this.majority.check();
      this.armAntiEntropy();
    });
  }

  // --- lifecycle and introspection ----------------------------------------------------

  /** Nothing to record, lay out or fetch right now (simulator and tests). */
  get idle(): boolean {
    return this.detector.idle && this.reconciler.idle && this.fetcher.pending === 0;
  }

  get waitingPaths(): number {
    return this.reconciler.waitingCount;
  }

  get reconcileStats(): Reconciler['stats'] {
    return this.reconciler.stats;
  }

  get transfers(): Reconciler['transfers'] {
    return this.reconciler.transfers;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.antiEntropy?.cancel();
    this.majority.stop();
    this.conflictTimer?.cancel();
    await this.watcher?.close();
    await this.detector.stop();
    await this.reconciler.stop();
    await this.syncing;
    this.localBlocks.close();
    for (const s of this.sessions.values()) s.link.close('shutting down');
    await this.mutex.run(async () => {});
  }
}
