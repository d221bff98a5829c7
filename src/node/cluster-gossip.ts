// What this node knows of the cluster and tells its peers: each member's summary (how far
// its log is durable, what it refused) goes to every peer, news about others is relayed
// once, and from those summaries the quorum rule knows what is committed. A periodic
// anti-entropy round restates every link's log clock and re-announces this node, so
// members heard of only through others stay fresh.
import { Members } from '../cluster/members.ts';
import { committedPrefix, uncommittedCount } from '../cluster/quorum.ts';
import type { Store } from '../log/store.ts';
import type { Gossip, MemberSummary } from '../proto/types.ts';
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import { MajorityWatch } from './majority-watch.ts';
import type { Session } from './session.ts';
import { clockProblem, isOrigin } from './validate.ts';

/** At most this many member summaries are read from one gossip frame. */
const MAX_MEMBERS_PER_GOSSIP = 256;

export interface ClusterGossipOptions {
  store: Store;
  env: Env;
  logger: Logger;
  clusterSize: number;
  /** The address peers can dial us at (announced in gossip). */
  listen: string;
  antiEntropyMs: number;
  sessions: ReadonlyMap<string, Session>;
  /** What is committed may have changed (a conflict's winner may be another now). */
  onCommitKnowledge: () => void;
}

export interface ClusterView {
  size: number;
  quorum: number;
  reachable: string[];
  majorityReachable: boolean;
  uncommitted: number;
}

export class ClusterGossip {
  readonly members: Members;
  private readonly majority: MajorityWatch;
  private readonly relay = new Map<string, MemberSummary>();
  private pendingRefusals: MemberSummary['refused'] = [];
  private queued = false;
  private antiEntropy: Timer | null = null;
  private stopped = false;

  constructor(private readonly o: ClusterGossipOptions) {
    this.members = new Members({
      nodeId: o.store.nodeId,
      origin: o.store.origin,
      clusterSize: o.clusterSize,
      listen: o.listen,
      now: () => o.env.now(),
    });
    this.majority = new MajorityWatch({
      members: this.members,
      env: o.env,
      logger: o.logger,
      reachable: () => this.reachable().length,
    });
  }

  /** Members as the log last stored them, and ourselves as the log stands. */
  async load(): Promise<void> {
    const { store } = this.o;
    this.members.load(await store.members(), await store.refusals());
    this.members.updateSelf(store.clock());
  }

  /** Start the anti-entropy rounds (after the start-up scan). */
  start(): void {
    this.majority.check();
    this.armAntiEntropy();
  }

  /** A link came or went: the majority may be reachable or lost now. */
  linksChanged(): void {
    this.majority.check();
  }

  /** Refusals of appended operations, published with the next acknowledgement. */
  noteRefused(refused: MemberSummary['refused']): void {
    this.pendingRefusals.push(...refused);
  }

  /** Publish that everything up to `clock` is durably in our log. */
  acknowledge(clock: ReturnType<Store['clock']>): void {
    this.members.updateSelf(clock, this.pendingRefusals.splice(0));
    this.soon();
  }

  /** A new link: it learns every member we know of. */
  greet(session: Session): void {
    session.send({ gossip: { members: this.members.summaries() } });
  }

  onGossip(session: Session, gossip: Gossip): void {
    let changed = false;
    for (const m of gossip.members.slice(0, MAX_MEMBERS_PER_GOSSIP)) {
      if (!isOrigin(m.origin) || clockProblem(m.logClock)) continue;
      if (m.nodeId === session.peerId) session.notePeerClock(m.logClock);
      if (!this.members.apply(m)) continue;
      changed = true;
      if (m.nodeId !== this.o.store.nodeId) {
        this.relay.set(m.nodeId, m);
        this.o.store.putMember(m).catch(() => {});
      }
    }
    if (!changed) return;
    this.soon();
    this.majority.check();
    this.o.onCommitKnowledge();
  }

  /** Send our summary, and relay news about others, to every peer (coalesced). */
  soon(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      const members = [this.members.ownSummary(), ...this.relay.values()];
      this.relay.clear();
      for (const s of this.o.sessions.values()) s.send({ gossip: { members } });
    });
  }

  /** Who is reachable (linked, or heard of recently through others), what is committed. */
  view(): ClusterView {
    const reachable = this.reachable();
    const prefix = committedPrefix(this.members.views(), this.members.size);
    return {
      size: this.members.size,
      quorum: this.members.quorum,
      reachable,
      majorityReachable: reachable.length >= this.members.quorum,
      uncommitted: uncommittedCount(this.o.store.clock(), prefix),
    };
  }

  stop(): void {
    this.stopped = true;
    this.antiEntropy?.cancel();
    this.majority.stop();
  }

  private reachable(): string[] {
    return this.members.reachable(new Set(this.o.sessions.keys()), 3 * this.o.antiEntropyMs);
  }

  private armAntiEntropy(): void {
    this.antiEntropy = this.o.env.setTimer(this.o.antiEntropyMs, () => {
      if (this.stopped) return;
      for (const s of this.o.sessions.values()) s.restate();
      // Re-announce ourselves so members reached only through others stay "fresh".
      this.members.updateSelf(this.o.store.clock());
      this.soon();
      this.majority.check();
      this.armAntiEntropy();
    });
  }
}
