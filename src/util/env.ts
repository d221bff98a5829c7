// Time, timers and randomness as an interface, so the simulator can run many nodes in one
// process deterministically (a seeded source and a virtual clock) while the daemon uses
// the real ones.
import { randomBytes } from 'node:crypto';

export interface Timer {
  cancel(): void;
}

export interface Env {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Run fn after ms milliseconds (virtual time in the simulator). */
  setTimer(ms: number, fn: () => void): Timer;
  random(n: number): Uint8Array;
}

export const realEnv: Env = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  random: (n) => randomBytes(n),
};
