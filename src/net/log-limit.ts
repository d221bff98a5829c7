// Rate limit for repetitive log lines (a flood of failing connections must not flood the
// log): the first line for a key is written, further ones within the window are counted,
// and the next line after the window says how many were suppressed.
import type { Env } from '../util/env.ts';

interface Entry {
  since: number;
  suppressed: number;
}

const MAX_KEYS = 1024;

export class LogLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly env: Env,
    private readonly windowMs = 60_000,
  ) {}

  /** Whether to log now; if so, how many lines for this key were suppressed before it. */
  allow(key: string): { suppressed: number } | null {
    const now = this.env.now();
    const e = this.entries.get(key);
    if (e && now - e.since < this.windowMs) {
      e.suppressed++;
      return null;
    }
    if (this.entries.size >= MAX_KEYS) this.prune(now);
    this.entries.set(key, { since: now, suppressed: 0 });
    return { suppressed: e?.suppressed ?? 0 };
  }

  /** Forget a key (its condition cleared), so the next occurrence is logged at once. */
  clear(key: string): void {
    this.entries.delete(key);
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (now - e.since >= this.windowMs) this.entries.delete(k);
    // Still full: an attacker cycling keys. Drop the oldest half rather than grow.
    if (this.entries.size >= MAX_KEYS) {
      let n = this.entries.size / 2;
      for (const k of this.entries.keys()) {
        if (n-- <= 0) break;
        this.entries.delete(k);
      }
    }
  }
}
