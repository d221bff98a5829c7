// One replica: the operation log, the folder, and the links to its peers. Everything it
// touches comes in through interfaces (FileSystem, watcher factory, Env, PeerLink), so the
// daemon and the simulator run this very code. Data flow of one change:
//   watcher event → Detector (settle, lstat, hash) → Recorder (operation) → log (one
//   synced batch) → every Session pushes it → peer's Session → ingestRemote (validated,
//   appended) → Reconciler (layout, plan, fetch blocks, temp file, rename) → disk.
import { createIgnoreRules, IGNORE_FILE, type IgnoreRules } from '../fs/ignore.ts';
import type { FileSystem } from '../fs/types.ts';
import type { WatchEvent, Watcher } from '../fs/watcher/types.ts';
import type { Store } from '../log/store.ts';
import { isTombstoneKind } from '../model/version.ts';
import type { PeerLink } from '../net/types.ts';
import type { BlockReply, BlockRequest, Gossip, Operation, Version } from '../proto/types.ts';
import type { Env } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import { Mutex } from '../util/mutex.ts';
import { AppendFlow } from './append-flow.ts';
import { BlockServer } from './block-server.ts';
import { ClusterGossip } from './cluster-gossip.ts';
import { ContentAssembler } from './content.ts';
import { Detector } from './detector.ts';
import { Fetcher } from './fetcher.ts';
import { loadIgnoreRules } from './ignore-file.ts';
import { appendRemote, type Ingested } from './ingest.ts';
import { LinkEvents } from './link-events.ts';
import { LocalBlocks } from './local-blocks.ts';
import { type FolderMarker, MarkerGuard } from './marker-guard.ts';
import { Reconciler } from './reconciler.ts';
import { Recorder } from './recorder.ts';
import { type ScanProgress, type ScanResult, scan } from './scanner.ts';
import { Session, type SessionHost } from './session.ts';

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
  private readonly blockServer: BlockServer;
  private readonly localBlocks: LocalBlocks;
  private readonly gossip: ClusterGossip;
  private readonly linkEvents: LinkEvents;
  private readonly recorder: Recorder;
  private ignore: IgnoreRules = createIgnoreRules();
  private watcher: Watcher | null = null;
  private stopping = false;
  private readonly marker: MarkerGuard;
  scanResult: ScanResult | null = null;
  readonly counters = { opsLocal: 0, opsRemote: 0 };
  private readonly flow: AppendFlow;

  constructor(private readonly o: NodeOptions) {
    this.store = o.store;
    this.logger = o.logger;
    this.gossip = new ClusterGossip({
      store: o.store,
      env: o.env,
      logger: o.logger,
      clusterSize: o.clusterSize,
      listen: o.listen ?? '',
      antiEntropyMs: o.antiEntropyMs ?? 10_000,
      sessions: this.sessions,
      onCommitKnowledge: () => this.flow.relayoutConflicts(),
    });
    this.linkEvents = new LinkEvents(o.logger, o.env);
    this.marker = new MarkerGuard(o.marker, o.logger, o.fs.root);
    this.flow = new AppendFlow({
      store: o.store,
      env: o.env,
      logger: o.logger,
      gossip: this.gossip,
      sessions: this.sessions,
      schedule: (paths) => this.reconciler.schedule(paths),
    });
    const isCommitted = (path: string, v: Version) => this.members.isCommitted(path, v);
    this.recorder = new Recorder({ store: o.store, now: () => o.env.now(), isCommitted });
    this.fetcher = new Fetcher(() => this.sessions.values(), o.env);
    this.localBlocks = new LocalBlocks(o.fs, o.store, o.env);
    this.blockServer = new BlockServer(this.localBlocks, o.env);
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
      deletesAllowed: () => this.marker.present(),
    });
  }

  get nodeId(): string {
    return this.store.nodeId;
  }

  /** The cluster's members as this node knows them (status, tests). */
  get members(): ClusterGossip['members'] {
    return this.gossip.members;
  }

  /** Mark the folder, watch it, scan what changed while we were away, and go live. */
  async start(): Promise<void> {
    const { fs } = this.o;
    await this.gossip.load();
    const hadIndex = (await this.store.indexEmpty()) === false;
    const markerThere = await this.marker.atStart(this.store.nodeId, hadIndex);
    const removed = (await this.o.cleanTemps?.()) ?? 0;
    if (removed) this.logger.info('removed temp files left by an interrupted transfer', { count: removed });
    this.ignore = await loadIgnoreRules(fs);
    if (this.o.watch) {
      this.watcher = this.o.watch(
        (events) => this.onWatch(events),
        () => this.ignore,
      );
      await this.watcher.ready();
    }
    const settled = new Set<string>();
    this.flow.scanSettled = settled;
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
      this.flow.scanSettled = null;
    });
    // Anything the log says but the disk does not show yet (a crash mid-transfer, or ops
    // that arrived while we were down): lay it out now.
    // Paths the scan just recorded as the disk shows them are laid out already (planning a
    // 2 GiB file decoded its 27,000-block list twice for nothing: ~16 MiB of RSS).
    const all: string[] = [];
    for await (const [path, kinds] of this.store.headKinds()) {
      if (!settled.has(path)) all.push(path);
      if (kinds.filter((k) => !isTombstoneKind(k)).length > 1) this.flow.conflicted.add(path);
    }
    this.reconciler.schedule(all);
    this.marker.goLive();
    this.gossip.start();
  }

  private onWatch(events: WatchEvent[]): void {
    if (this.stopping) return;
    if (events.some((e) => e.path === IGNORE_FILE)) {
      loadIgnoreRules(this.o.fs).then(
        (rules) => {
          this.ignore = rules;
        },
        (err: unknown) => this.logger.warn('cannot read ignore file', { error: String(err) }),
      );
    }
    this.detector.notify(events);
  }

  /** Watcher-less drivers (tests) report changes here. */
  notify(paths: string[]): void {
    this.detector.touch(paths);
  }

  private recorded(ops: Ingested[], unsettled?: Iterable<string>): void {
    this.counters.opsLocal += ops.length;
    this.flow.recorded(ops, unsettled);
  }

  // --- peers -------------------------------------------------------------------------

  attach(link: PeerLink): void {
    const old = this.sessions.get(link.peer.nodeId);
    if (old && !old.isClosed) old.close('replaced by a newer link', false);
    const s = new Session(link, this, () => this.o.env.now());
    this.sessions.set(link.peer.nodeId, s);
    this.linkEvents.churned(`link ${link.peer.nodeId}`, 'peer connected', {
      peer: link.peer.nodeId,
      address: link.peer.address,
    });
    s.start();
    this.gossip.greet(s);
    this.fetcher.onSessionOpened();
    this.gossip.linksChanged();
  }

  onViolation(session: Session, reason: string, violation: boolean): void {
    this.linkEvents.dropped(session, reason, violation);
  }

  onWelcome(_session: Session): void {
    this.reconciler.retryWaiting();
  }

  onClose(session: Session, reason: string): void {
    if (this.sessions.get(session.peerId) === session) this.sessions.delete(session.peerId);
    this.fetcher.onSessionClosed(session);
    if (!this.stopping) {
      this.linkEvents.churned(`unlink ${session.peerId}`, 'peer disconnected', {
        peer: session.peerId,
        reason,
      });
      this.gossip.linksChanged();
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
    const { ingested: done, gap } = await this.mutex.run(() =>
      appendRemote(this.store, ops, this.o.env.now()),
    );
    if (done.length) {
      this.counters.opsRemote += done.length;
      this.flow.received(done);
    }
    return gap;
  }

  serveBlock(req: BlockRequest): Promise<Uint8Array> {
    return this.blockServer.serve(req);
  }

  frameSent(frame: Uint8Array): void {
    this.blockServer.sent(frame);
  }

  onBlockReply(session: Session, reply: BlockReply): void {
    this.fetcher.onReply(session, reply);
  }

  onGossip(session: Session, gossip: Gossip): void {
    this.gossip.onGossip(session, gossip);
  }

  /** Cluster view for status: who is reachable, what is committed. */
  clusterView() {
    return { ...this.gossip.view(), conflicts: this.flow.conflicted.size };
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
    this.gossip.stop();
    this.flow.stop();
    await this.watcher?.close();
    await this.detector.stop();
    await this.reconciler.stop();
    await this.flow.synced();
    this.localBlocks.close();
    for (const s of this.sessions.values()) s.link.close('shutting down');
    await this.mutex.run(async () => {});
  }
}
