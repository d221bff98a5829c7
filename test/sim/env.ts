// Virtual time and seeded randomness for the simulator: every node's Env reads one shared
// clock (optionally skewed per node), timers fire only when the simulator advances time,
// and every random byte comes from a seeded generator, so a run replays from its seed.
import type { Env, Timer } from '../../src/util/env.ts';

export const SIM_T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** mulberry32: small, fast, good enough for schedules. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(next: () => number): (n: number) => Uint8Array {
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
    return out;
  };
}

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  owner: number;
}

export class SimClock {
  now = SIM_T0;
  private seq = 0;
  private timers: Entry[] = [];

  schedule(owner: number, ms: number, fn: () => void): Timer {
    const e: Entry = { at: this.now + Math.max(0, ms), seq: this.seq++, fn, cancelled: false, owner };
    this.timers.push(e);
    return {
      cancel: () => {
        e.cancelled = true;
      },
    };
  }

  /** Earliest pending timer, or null. */
  nextAt(): number | null {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: number | null = null;
    for (const t of this.timers) if (best === null || t.at < best) best = t.at;
    return best;
  }

  /** Fire every timer due at or before `now`, in (time, creation) order. Returns how many ran. */
  runDue(): number {
    let ran = 0;
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= this.now)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) return ran;
      due.cancelled = true;
      ran++;
      due.fn();
    }
  }

  advanceTo(t: number): void {
    if (t > this.now) this.now = t;
  }

  /** A crashed node's timers never fire. */
  cancelOwner(owner: number): void {
    for (const t of this.timers) if (t.owner === owner) t.cancelled = true;
  }
}

export function simEnv(clock: SimClock, owner: number, seed: number, skewMs = 0, alive = () => true): Env {
  const r = randomBytes(rng(seed));
  return {
    now: () => clock.now + skewMs,
    // A crashed incarnation's leftover promises may still ask for timers: they never fire.
    setTimer: (ms, fn) => (alive() ? clock.schedule(owner, ms, fn) : { cancel() {} }),
    random: r,
  };
}
