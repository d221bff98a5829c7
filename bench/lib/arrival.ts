// Waiting for a change to arrive at the other side, timed by the event that completed it:
// every watcher event (re)runs the scenario's check, coalesced so at most one check runs at
// a time; when a check passes, arrival is the time of the last event it had seen. A slow
// poll (every 2 s) only guards against a lost event, and says so in `by` when it decided.
import { performance } from 'node:perf_hooks';
import { TreeWatch } from './tree-watch.ts';

/** changed: paths reported since the last check; null: check everything (start, poll). */
export type Check = (changed: ReadonlySet<string> | null) => Promise<boolean>;

export interface Arrived {
  at: number;
  by: 'event' | 'poll' | 'start';
}

export class Arrival {
  private dirty = new Set<string>();
  private lastEventAt = 0;
  private running = false;
  private full = true;
  private result: Arrived | null = null;
  private resolveDone!: (a: Arrived) => void;
  private readonly done = new Promise<Arrived>((r) => {
    this.resolveDone = r;
  });
  private poll: NodeJS.Timeout | null = null;
  private watch: TreeWatch | null = null;
  private lastError: unknown = null;

  private constructor(private readonly check: Check) {}

  /** Start watching dir (before the change is made, so no event is missed). */
  static async start(dir: string, ignored: (name: string) => boolean, check: Check): Promise<Arrival> {
    const a = new Arrival(check);
    a.watch = await TreeWatch.start(dir, ignored, (rel, at) => a.onEvent(rel, at));
    a.poll = setInterval(() => {
      a.full = true;
      void a.kick('poll', performance.now());
    }, 2000);
    // The first check runs before the change is made, not beside it: a large file's check
    // hashes all of it (~0.3 s of a core), which otherwise competed with the change's
    // propagation inside the measured time (the 1 MiB overwrite, whose size matches before
    // and after, was the one step it hit).
    await a.kick('start', performance.now());
    return a;
  }

  /** Names seen on the watched side since start. */
  get seen(): ReadonlySet<string> {
    return this.watch?.seen ?? new Set();
  }

  private onEvent(rel: string, at: number): void {
    this.dirty.add(rel);
    this.lastEventAt = at;
    void this.kick('event', at);
  }

  private kick(by: Arrived['by'], at: number): Promise<void> {
    if (this.running || this.result) return Promise.resolve();
    this.running = true;
    return this.loop(by, at);
  }

  private async loop(by: Arrived['by'], at: number): Promise<void> {
    let reason = by;
    let when = at;
    while (!this.result && (this.full || this.dirty.size > 0)) {
      const batch = this.full ? null : this.dirty;
      this.dirty = new Set();
      this.full = false;
      let ok = false;
      try {
        ok = await this.check(batch);
      } catch (err) {
        this.lastError = err;
      }
      if (ok) {
        this.result = { at: when, by: reason };
        this.resolveDone(this.result);
        break;
      }
      reason = 'event';
      when = this.lastEventAt;
    }
    this.running = false;
  }

  /** Resolves when the check passed; rejects after timeoutMs. */
  async wait(timeoutMs: number, what: string): Promise<Arrived> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = this.lastError instanceof Error ? ` (last check: ${this.lastError.message})` : '';
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.done, late]);
    } finally {
      clearTimeout(timer);
      this.close();
    }
  }

  close(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.watch?.close();
  }
}
