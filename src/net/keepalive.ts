// Dead-peer detection. Every interval we ping; a peer that shows no sign of life (any
// message, pong, or write progress while we are backlogged) for two intervals in a row is
// dead. Pings are tiny control frames that ws interleaves between data frames, so they
// cost no latency; and busy links count as alive by their traffic alone.
import type { Env, Timer } from '../util/env.ts';

export interface KeepaliveHooks {
  /** A counter that grows with every sign of life. */
  activity(): number;
  ping(): void;
  dead(reason: string): void;
}

const SILENT_INTERVALS = 2;

export class Keepalive {
  private timer: Timer | null = null;
  private probeTimer: Timer | null = null;
  private seen: number;
  private silent = 0;
  private stopped = false;

  constructor(
    private readonly env: Env,
    private readonly intervalMs: number,
    private readonly hooks: KeepaliveHooks,
  ) {
    this.seen = hooks.activity();
    if (intervalMs > 0) this.arm();
  }

  /** Ping now and declare the peer dead if it shows no sign of life within timeoutMs. */
  probe(timeoutMs: number): void {
    if (this.stopped || this.probeTimer) return;
    const before = this.hooks.activity();
    this.safePing();
    this.probeTimer = this.env.setTimer(timeoutMs, () => {
      this.probeTimer = null;
      if (!this.stopped && this.hooks.activity() === before) {
        this.hooks.dead(`no answer to a liveness probe within ${timeoutMs} ms`);
      }
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.probeTimer?.cancel();
    this.timer = null;
    this.probeTimer = null;
  }

  private arm(): void {
    this.timer = this.env.setTimer(this.intervalMs, () => this.tick());
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.hooks.activity();
    if (now !== this.seen) {
      this.seen = now;
      this.silent = 0;
    } else if (++this.silent >= SILENT_INTERVALS) {
      this.hooks.dead(`peer silent for ${SILENT_INTERVALS * this.intervalMs} ms (keepalive)`);
      return;
    }
    this.safePing();
    this.arm();
  }

  private safePing(): void {
    try {
      this.hooks.ping();
    } catch {
      // ws throws if the socket is not open; the close event will end the link.
    }
  }
}
