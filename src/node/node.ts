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
import type { Version } from '../proto/types.ts';
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
import type { Ingested } from './ingest.ts';
import { LinkEvents } from './link-events.ts';
import { LocalBlocks } from './local-blocks.ts';
import { type FolderMarker, MarkerGuard } from './marker-guard.ts';
import { PeerSessions } from './peer-sessions.ts';
import { Reconciler } from './reconciler.ts';
import { Recorder } from './recorder.ts';
import { type ScanProgress, type ScanResult, scan } from './scanner.ts';
import type { Session } from './session.ts';

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

export class Node {
  readonly store: Store;
  readonly logger: Logger;
  readonly sessions = new Map<string, Session>();
  private readonly mutex = new Mutex();
  private readonly detector: Detector;
  private readonly reconciler: Reconciler;
  private readonly fetcher: Fetcher;
  private readonly localBlocks: LocalBlocks;
  private readonly gossip: ClusterGossip;
  private readonly recorder: Recorder;
  private ignore: IgnoreRules = createIgnoreRules();
  private watcher: Watcher | null = null;
  private stopping = false;
  private readonly marker: MarkerGuard;
  scanResult: ScanResult | null = null;
  readonly counters = { opsLocal: 0, opsRemote: 0 };
  private readonly flow: AppendFlow;
  private readonly peers: PeerSessions;

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
    const linkEvents = new LinkEvents(o.logger, o.env);
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
    const blockServer = new BlockServer(this.localBlocks, o.env);
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
    this.peers = new PeerSessions({
      store: o.store,
      logger: o.logger,
      env: o.env,
      mutex: this.mutex,
      sessions: this.sessions,
      gossip: this.gossip,
      linkEvents,
      fetcher: this.fetcher,
      blockServer,
      flow: this.flow,
      reconciler: this.reconciler,
      counters: this.counters,
      stopping: () => this.stopping,
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
    const hadHeads = (await this.store.headsEmpty()) === false;
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
    // 2 GiB file decoded its 27,000-block list twice for nothing: ~16 MiB of RSS). With no
    // head before the scan, every head came through the append flow, which planned it and
    // checked it for conflicts: the pass would only repeat that (100,000 fresh files: ~0.35
    // CPU-s and ~160 MB of garbage).
    if (hadHeads) {
      const all: string[] = [];
      for await (const [path, kinds] of this.store.headKinds()) {
        if (!settled.has(path)) all.push(path);
        if (kinds.filter((k) => !isTombstoneKind(k)).length > 1) this.flow.conflicted.add(path);
      }
      this.reconciler.schedule(all);
    }
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
    this.peers.attach(link);
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
