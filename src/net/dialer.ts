// Keeps dialling one peer address for ever: capped exponential backoff with jitter after
// failures, a harder cap when the peer refuses us (wrong secret, version), reset once a
// link has stayed up for a while. Once it knows which node sits at the address it does not
// dial while a link to that node exists (whichever side dialled it): it parks until the
// link is gone. The node with the larger id waits a little longer before redialling, so
// the connection both sides prefer (dialled by the smaller id) usually comes first.
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import type { PeerAddress } from './address.ts';
import { Backoff, jitter } from './backoff.ts';
import { CloseCode, REFUSAL_CODES } from './errors.ts';
import type { LinkEnd } from './link-end.ts';
import type { LogLimiter } from './log-limit.ts';

export interface BackoffConfig {
  /** First retry delay (before jitter). */
  initialMs: number;
  /** Cap for ordinary failures (unreachable, dropped). */
  maxMs: number;
  /** Cap when the peer refuses us or we refuse it (secret, version, certificate). */
  refusedMaxMs: number;
  /** A link up at least this long resets the backoff when it ends. */
  stableMs: number;
}

export interface DialerContext {
  env: Env;
  logger: Logger;
  limiter: LogLimiter;
  ourNodeId: string;
  backoff: BackoffConfig;
  isLinked(nodeId: string): boolean;
  /** Start one attempt; the transport reports back through failed / admitted / ended. */
  attempt(dialer: Dialer): void;
  /** Abort the attempt in progress, if any. */
  abort(dialer: Dialer): void;
}

export type DialState = 'waiting' | 'connecting' | 'linked' | 'parked' | 'self' | 'stopped';

export interface DialStatus {
  address: string;
  state: DialState;
  nodeId: string | null;
  failures: number;
  lastError: string;
}

/** Extra delay for the larger node id before redialling a known peer. */
const YIELD_MS = 250;

export class Dialer {
  nodeId: string | null = null;
  private state: DialState = 'waiting';
  private timer: Timer | null = null;
  private lastError = '';
  private readonly backoff: Backoff;

  constructor(
    readonly target: PeerAddress,
    private readonly ctx: DialerContext,
  ) {
    this.backoff = new Backoff(ctx.env, { initialMs: ctx.backoff.initialMs, maxMs: ctx.backoff.maxMs });
  }

  status(): DialStatus {
    const { target, state, nodeId, lastError } = this;
    return { address: target.text, state, nodeId, failures: this.backoff.failures, lastError };
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.state = 'stopped';
    this.timer?.cancel();
    this.timer = null;
    this.ctx.abort(this);
  }

  /** The attempt did not produce an open socket. */
  failed(error: string, refused: boolean): void {
    if (this.state !== 'connecting') return;
    this.fail(refused ? 'refused' : 'unreachable', error, refused);
  }

  /** Our connection became the link to its node. */
  admitted(nodeId: string): void {
    if (this.state === 'stopped') return;
    this.nodeId = nodeId;
    this.state = 'linked';
    this.lastError = '';
    this.ctx.limiter.clear(this.logKey('unreachable'));
    this.ctx.limiter.clear(this.logKey('refused'));
  }

  /** Our connection ended, at whatever stage. */
  ended(end: LinkEnd, claimedNodeId: string): void {
    if (this.state === 'stopped' || this.state === 'self') return;
    if (claimedNodeId) this.nodeId = claimedNodeId;
    const refusedByUs = end.refusal;
    if (refusedByUs?.kind === 'self' || (end.by === 'peer' && end.code === CloseCode.Self)) {
      this.state = 'self';
      this.ctx.logger.info('peer address is this node itself; not dialling it', { peer: this.target.text });
      return;
    }
    if (end.code === CloseCode.Duplicate) {
      this.state = 'waiting';
      this.afterRoutineClose();
      return;
    }
    if (end.code === CloseCode.NodeIdInUse) {
      // Either side holds a link to this node id from another process: if that one is a
      // stale connection, the probe it triggered clears it within seconds.
      this.fail('refused', end.reason, false);
      return;
    }
    if (end.linked) {
      if (end.upMs >= this.ctx.backoff.stableMs) this.backoff.reset();
      this.fail('dropped', end.reason, false);
      return;
    }
    const refused = refusedByUs !== null || (end.by === 'peer' && REFUSAL_CODES.has(end.code));
    this.fail(refused ? 'refused' : 'unreachable', end.reason, refused);
  }

  /** The registry lost its link to `nodeId`. */
  peerGone(nodeId: string): void {
    if (this.state === 'parked' && this.nodeId === nodeId) this.afterRoutineClose();
  }

  private afterRoutineClose(): void {
    const extra = this.nodeId !== null && this.ctx.ourNodeId > this.nodeId ? YIELD_MS : 0;
    this.schedule(jitter(this.ctx.env, this.ctx.backoff.initialMs) + extra);
  }

  private fail(kind: 'unreachable' | 'refused' | 'dropped', error: string, hardCap: boolean): void {
    this.lastError = error;
    const delay = this.backoff.next(hardCap ? this.ctx.backoff.refusedMaxMs : this.ctx.backoff.maxMs);
    if (kind !== 'dropped') {
      const allowed = this.ctx.limiter.allow(this.logKey(kind));
      const fields = {
        peer: this.target.text,
        error,
        retryMs: delay,
        suppressed: allowed?.suppressed || undefined,
      };
      if (allowed && kind === 'unreachable') this.ctx.logger.info('cannot reach peer', fields);
      // Refusals are logged where they happen (transport); here only the retry schedule.
      else this.ctx.logger.debug(`dial ${kind}; retrying`, fields);
    }
    this.schedule(delay);
  }

  private schedule(delayMs: number): void {
    if (this.state === 'stopped') return;
    this.timer?.cancel();
    this.state = 'waiting';
    this.timer = this.ctx.env.setTimer(delayMs, () => {
      this.timer = null;
      this.dial();
    });
  }

  private dial(): void {
    if (this.state !== 'waiting') return;
    if (this.nodeId !== null && this.ctx.isLinked(this.nodeId)) {
      this.state = 'parked';
      return;
    }
    this.state = 'connecting';
    this.ctx.attempt(this);
  }

  private logKey(kind: string): string {
    return `dial ${this.target.text} ${kind}`;
  }
}
