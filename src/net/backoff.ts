// Capped exponential backoff with jitter for reconnecting: initial, 2x, 4x ... up to a cap,
// each delay drawn from [d/2, d) so that peers restarting together do not dial in lockstep.
import type { Env } from '../util/env.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** A uniform number in [0, 1) from the environment's random source. */
export function uniform(env: Env): number {
  const b = env.random(4);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
}

export function jitter(env: Env, ms: number): number {
  return Math.round(ms / 2 + (uniform(env) * ms) / 2);
}

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly env: Env,
    private readonly opts: BackoffOptions,
  ) {}

  get failures(): number {
    return this.attempt;
  }

  /** The delay before the next attempt after one more failure; `capMs` overrides the cap. */
  next(capMs = this.opts.maxMs): number {
    const exp = Math.min(this.attempt, 30);
    this.attempt++;
    return jitter(this.env, Math.min(capMs, this.opts.initialMs * 2 ** exp));
  }

  reset(): void {
    this.attempt = 0;
  }
}
