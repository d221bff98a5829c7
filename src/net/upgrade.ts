// Admission of inbound WebSocket upgrades, before any WebSocket exists: the right path,
// room among the unauthenticated connections, and (with pinning) a pinned client
// certificate. Refused upgrades get a short HTTP error that says why, then the socket closes.
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../util/logger.ts';
import { remoteOf } from './address.ts';
import { certFingerprint } from './auth.ts';
import { REFUSAL_HEADER } from './client.ts';
import type { LogLimiter } from './log-limit.ts';

export const WS_PATH = '/ws';

export function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  const text = STATUS_CODES[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${REFUSAL_HEADER}: ${reason}\r\n\r\n`,
  );
  // end() flushes and half-closes; do not wait on a peer that never closes its side.
  socket.once('finish', () => socket.destroy());
}

export interface GateOptions {
  maxPending: number;
  pins: ReadonlySet<string> | null;
  limiter: LogLimiter;
  logger: Logger;
}

export class UpgradeGate {
  /** Inbound sockets between upgrade and authentication. */
  private readonly pending = new Set<Duplex>();

  constructor(private readonly opts: GateOptions) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Admit the upgrade, or answer it with an error and return false. */
  admit(req: IncomingMessage, socket: Socket | TLSSocket): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WS_PATH) {
      rejectUpgrade(socket, 404, 'no such endpoint');
      return false;
    }
    const address = remoteOf(socket);
    const ip = socket.remoteAddress ?? '?';
    if (this.pending.size >= this.opts.maxPending) {
      const ok = this.opts.limiter.allow('pending limit');
      if (ok) {
        this.opts.logger.warn('too many unauthenticated connections; dropping new ones', {
          address,
          limit: this.opts.maxPending,
          suppressed: ok.suppressed || undefined,
        });
      }
      rejectUpgrade(socket, 503, 'too many pending connections');
      return false;
    }
    if (this.opts.pins) {
      const cert = 'getPeerCertificate' in socket ? socket.getPeerCertificate() : null;
      const fp = cert?.raw ? certFingerprint(cert.raw) : '';
      if (!this.opts.pins.has(fp)) {
        const ok = this.opts.limiter.allow(`in ${ip} cert`);
        if (ok) {
          this.opts.logger.warn('refused peer', {
            address,
            reason: fp ? `client certificate ${fp} is not pinned` : 'no client certificate',
            suppressed: ok.suppressed || undefined,
          });
        }
        rejectUpgrade(socket, 403, 'client certificate not pinned');
        return false;
      }
    }
    this.pending.add(socket);
    socket.once('close', () => this.pending.delete(socket));
    return true;
  }

  release(socket: Duplex): void {
    this.pending.delete(socket);
  }
}
