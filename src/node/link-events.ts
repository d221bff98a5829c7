// Log lines about links: connects and disconnects once per peer per 10 s, each kind of
// protocol violation once per peer per minute. A flapping or hostile peer must not flood
// the log, and every kind of trouble must still be on record.
import { LogLimiter } from '../net/log-limit.ts';
import type { Env } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import type { Session } from './session.ts';

const CHURN_WINDOW_MS = 10_000;

export class LinkEvents {
  private readonly churn: LogLimiter;
  private readonly violations: LogLimiter;

  constructor(
    private readonly logger: Logger,
    env: Env,
  ) {
    this.churn = new LogLimiter(env, CHURN_WINDOW_MS);
    this.violations = new LogLimiter(env);
  }

  /** A connect or disconnect, keyed by what happened to whom. */
  churned(key: string, msg: string, fields: Record<string, string | number | undefined>): void {
    const ok = this.churn.allow(key);
    if (ok) this.logger.info(msg, { ...fields, suppressed: ok.suppressed || undefined });
  }

  /** A link is being dropped; `violation`: the peer broke the protocol. */
  dropped(session: Session, reason: string, violation: boolean): void {
    if (!violation) {
      this.logger.warn('closing link', { peer: session.peerId, reason });
      return;
    }
    // Numbers and operation ids vary within one kind of violation: leave them out of the key.
    const kind = reason
      .replace(/\S+~\S+:\d+/g, '')
      .replace(/\d+/g, 'N')
      .slice(0, 100);
    const allowed = this.violations.allow(`${session.peerId} ${kind}`);
    if (allowed) {
      this.logger.warn('peer broke the protocol; link dropped', {
        peer: session.peerId,
        address: session.link.peer.address,
        reason: reason.slice(0, 300),
        suppressed: allowed.suppressed || undefined,
      });
    }
  }
}
