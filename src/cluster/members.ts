// What this node knows about every cluster member: the latest summary each published (its
// log clock and the versions it refused), when we last heard of it, and this node's own
// summary. Summaries travel by gossip and are relayed, so in a line A–B–C, A learns C's
// state through B. The commit oracle and the minority check read this table.
import { covers } from '../clock/vector.ts';
import type { Clock, Dot, MemberSummary, Refusal, Version } from '../proto/types.ts';
import { effectiveSize, type MemberView, quorumSize, refusalKey, versionCommitted } from './quorum.ts';

interface Entry {
  summary: MemberSummary;
  view: MemberView;
  heardMs: number;
}

export interface MembersOptions {
  nodeId: string;
  origin: string;
  clusterSize: number;
  listen: string;
  now: () => number;
}

export class Members {
  private readonly others = new Map<string, Entry>();
  private selfClock: Clock = { vv: {}, except: [] };
  private readonly selfRefused = new Set<string>();
  private readonly selfRefusedList: Refusal[] = [];
  private version = 0;
  /** Summaries of unknown members refused because the table was full. */
  rejected = 0;

  constructor(private readonly o: MembersOptions) {}

  /** Our own log clock and new refusals, after a synced commit. */
  updateSelf(logClock: Clock, refused: readonly Refusal[] = []): void {
    this.selfClock = logClock;
    for (const r of refused) {
      const key = refusalKey(r.dot, r.path);
      if (this.selfRefused.has(key)) continue;
      this.selfRefused.add(key);
      this.selfRefusedList.push(r);
    }
    this.bump();
  }

  private bump(floor = 0): void {
    this.version = Math.max(this.version + 1, floor + 1, this.o.now() * 1024);
  }

  ownSummary(): MemberSummary {
    return {
      nodeId: this.o.nodeId,
      origin: this.o.origin,
      version: this.version,
      logClock: this.selfClock,
      refused: this.selfRefusedList,
      listen: this.o.listen,
      updatedMs: this.o.now(),
    };
  }

  /**
   * A summary from gossip. Returns true if it told us something new (relay it on).
   * Our own summary coming back with a higher version (from before a restart) bumps ours.
   */
  apply(s: MemberSummary): boolean {
    if (s.nodeId === this.o.nodeId) {
      if (s.version > this.version) {
        this.bump(s.version);
        return true;
      }
      return false;
    }
    const known = this.others.get(s.nodeId);
    // At most one member more than configured (room for a node whose log was wiped and came
    // back under a new id): a peer cannot invent members to raise the quorum out of reach.
    if (!known && this.others.size >= this.o.clusterSize) {
      this.rejected++;
      return false;
    }
    if (known && known.summary.version >= s.version) {
      if (known.summary.version === s.version) known.heardMs = this.o.now();
      return false;
    }
    // A member whose log was wiped (new origin) starts from nothing: trust only what it says now.
    this.others.set(s.nodeId, {
      summary: s,
      view: {
        nodeId: s.nodeId,
        logClock: s.logClock,
        refused: new Set(s.refused.map((r) => refusalKey(r.dot, r.path))),
      },
      heardMs: this.o.now(),
    });
    return true;
  }

  /** Summaries loaded from the store at start (they are only knowledge, never trusted as fresh). */
  load(summaries: readonly MemberSummary[], ownRefusals: readonly Refusal[]): void {
    for (const s of summaries) {
      if (s.nodeId !== this.o.nodeId) this.apply(s);
      const e = this.others.get(s.nodeId);
      if (e) e.heardMs = 0;
    }
    this.updateSelf(this.selfClock, ownRefusals);
  }

  views(): MemberView[] {
    const self: MemberView = { nodeId: this.o.nodeId, logClock: this.selfClock, refused: this.selfRefused };
    return [self, ...[...this.others.values()].map((e) => e.view)];
  }

  summaries(): MemberSummary[] {
    return [this.ownSummary(), ...[...this.others.values()].map((e) => e.summary)];
  }

  get size(): number {
    return effectiveSize(this.o.clusterSize, this.others.size + 1);
  }

  get quorum(): number {
    return quorumSize(this.size);
  }

  isCommitted(path: string, v: Version): boolean {
    return versionCommitted(this.views(), this.size, v.dot, path);
  }

  /** This node accepted the version (holds it, did not refuse it). */
  accepted(dot: Dot, path: string): boolean {
    return covers({ vv: this.selfClock.vv, except: [] }, dot) && !this.selfRefused.has(refusalKey(dot, path));
  }

  /** Members we can reach: ourselves, direct links, and those whose news reached us lately. */
  reachable(direct: ReadonlySet<string>, freshMs: number): string[] {
    const now = this.o.now();
    const out = [this.o.nodeId];
    for (const [id, e] of this.others) if (direct.has(id) || now - e.heardMs <= freshMs) out.push(id);
    for (const id of direct) if (!out.includes(id)) out.push(id);
    return out;
  }

  heardMs(nodeId: string): number | null {
    return this.others.get(nodeId)?.heardMs ?? null;
  }

  summaryOf(nodeId: string): MemberSummary | null {
    return this.others.get(nodeId)?.summary ?? null;
  }
}
