// What the transport logs when a connection ends: one line per event that matters to an
// operator (a peer refused, or refusing us, and why; a link lost), repetitive ones rate
// limited per remote address so a flood of bad connections cannot flood the log.
import type { Logger } from '../util/logger.ts';
import { CloseCode } from './errors.ts';
import type { WsLink } from './link.ts';
import type { LinkEnd } from './link-end.ts';
import type { LogLimiter } from './log-limit.ts';

export class LinkLog {
  constructor(
    private readonly log: Logger,
    private readonly limiter: LogLimiter,
  ) {}

  /** A warning, at most once per key and window. */
  refusal(
    msg: 'refused peer' | 'peer refused us',
    key: string,
    address: string,
    reason: string,
    node?: string,
  ) {
    const ok = this.limiter.allow(key);
    if (ok) this.log.warn(msg, { node, address, reason, suppressed: ok.suppressed || undefined });
  }

  linked(link: WsLink): void {
    const { nodeId, address, outbound } = link.peer;
    // The node logs the connection (rate limited); here it is detail.
    this.log.debug('peer linked', { node: nodeId, address, outbound });
  }

  ended(link: WsLink, end: LinkEnd, shuttingDown: boolean): void {
    const { address, outbound } = link.peer;
    const node = link.claimedNodeId || undefined;
    // Inbound peers dial from ever-changing ports: rate limit by IP.
    const where = outbound ? `out ${address}` : `in ${address.replace(/:\d+$/, '')}`;
    if (shuttingDown) {
      this.log.debug('connection closed at shutdown', { node, address });
    } else if (end.linked) {
      const fields = { node, address, reason: end.reason, by: end.by, upMs: end.upMs };
      if (end.code === CloseCode.Duplicate) this.log.debug('duplicate link closed', fields);
      else this.log.debug('peer link closed', fields);
    } else if (end.refusal) {
      if (end.refusal.kind === 'self') this.log.debug('closed a connection to ourselves', { address });
      else this.refusal('refused peer', `${where} ${end.refusal.kind}`, address, end.reason, node);
    } else if (end.by === 'peer' && end.code >= 4000) {
      if (end.code === CloseCode.Duplicate || end.code === CloseCode.Self) {
        this.log.debug('peer closed connection', { node, address, reason: end.reason });
      } else this.refusal('peer refused us', `${where} peer ${end.code}`, address, end.reason, node);
    } else if (end.code === CloseCode.HandshakeTimeout) {
      const ok = this.limiter.allow(`${where} timeout`);
      if (ok) this.log.info('handshake timed out', { address, suppressed: ok.suppressed || undefined });
    } else {
      this.log.debug('connection ended during handshake', { node, address, reason: end.reason });
    }
  }
}
