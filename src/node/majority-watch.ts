// Minority mode, as the logs show it: when this node cannot reach a majority of the cluster
// it keeps recording local changes (uncommitted) and says so once; when it can again, it
// says that once too. A short grace period keeps start-up (peers not yet connected) and
// brief reconnects quiet.
import type { Members } from '../cluster/members.ts';
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';

/** How long a lost majority must stay lost before it is reported. */
export const MINORITY_GRACE_MS = 3000;

export interface MajorityWatchOptions {
  members: Members;
  env: Env;
  logger: Logger;
  /** How many members (ourselves included) we can reach now. */
  reachable: () => number;
}

export class MajorityWatch {
  private minority: boolean | null = null;
  private timer: Timer | null = null;
  private stopped = false;

  constructor(private readonly o: MajorityWatchOptions) {}

  /** Reachability may have changed: report a regained majority now, a lost one after the grace. */
  check(): void {
    if (this.stopped) return;
    const minority = this.o.reachable() < this.o.members.quorum;
    if (minority && this.minority !== true && !this.timer) {
      this.timer = this.o.env.setTimer(MINORITY_GRACE_MS, () => {
        this.timer = null;
        this.report();
      });
      return;
    }
    if (!minority) {
      this.timer?.cancel();
      this.timer = null;
      this.report();
    }
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private report(): void {
    if (this.stopped) return;
    const reachable = this.o.reachable();
    const { quorum, size } = this.o.members;
    const minority = reachable < quorum;
    if (minority === this.minority) return;
    const first = this.minority === null;
    this.minority = minority;
    if (minority) {
      this.o.logger.warn('minority: cannot reach a majority; local changes are recorded but not committed', {
        reachable,
        quorum,
        size,
      });
    } else if (!first) {
      this.o.logger.info('majority reachable again', { reachable, quorum, size });
    }
  }
}
