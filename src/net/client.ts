// Opening one outbound WebSocket: URL, socket options, TLS pinning of the server's
// certificate, and a connect timeout from the environment's timers. Reports either an open
// socket or why it could not get one (refused by the peer, or unreachable).
import type { ClientRequestArgs } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { Env } from '../util/env.ts';
import { localhostLookup, type PeerAddress, remoteOf, wsUrl } from './address.ts';
import { certFingerprint } from './auth.ts';
import { CloseCode } from './errors.ts';
import type { TlsFiles } from './server.ts';

/** Response header carrying why a peer refused an upgrade (pending limit, certificate). */
export const REFUSAL_HEADER = 'x-resonate-refusal';

export interface ClientConfig {
  env: Env;
  tls: TlsFiles | null;
  /** Pinned certificate fingerprints (normalised), or null to verify against CAs. */
  pins: ReadonlySet<string> | null;
  maxFrameBytes: number;
  connectTimeoutMs: number;
}

export type OpenResult =
  | { ok: true; ws: WebSocket; raw: Socket; address: string }
  /** refused: who turned the connection down before the handshake (null: it just failed). */
  | { ok: false; error: string; refused: 'us' | 'peer' | null; ws: WebSocket };

export interface Opening {
  readonly ws: WebSocket;
  cancel(): void;
}

function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

export function openClient(target: PeerAddress, cfg: ClientConfig, done: (r: OpenResult) => void): Opening {
  // autoSelectFamily is passed through to net.connect (missing from the typings of http).
  const options: WebSocket.ClientOptions & ClientRequestArgs & { autoSelectFamily?: boolean } = {
    perMessageDeflate: false,
    maxPayload: cfg.maxFrameBytes,
    allowSynchronousEvents: true,
    // A zero mask, which ws (both ends) then skips: RFC 6455's random client mask shields
    // browser-era HTTP proxies from script-chosen bytes; peers are not browsers, and masking
    // cost a copy and two passes over every byte sent (~0.25 s of CPU per 512 MiB here).
    generateMask: zeroMask,
    followRedirects: false,
    // Try every address the name resolves to, IPv6 and IPv4 alike.
    autoSelectFamily: true,
    ...(target.host === 'localhost' ? { lookup: localhostLookup } : {}),
    ...(cfg.tls
      ? {
          cert: cfg.tls.cert,
          key: cfg.tls.key,
          ...(cfg.tls.ca ? { ca: cfg.tls.ca } : {}),
          // With pins we check the certificate ourselves, so self-signed ones are fine.
          rejectUnauthorized: cfg.pins === null,
        }
      : {}),
  };
  const ws = new WebSocket(wsUrl(target, cfg.tls !== null), options);
  let settled = false;
  let raw: Socket | null = null;
  /** The peer answered the upgrade with an HTTP error: why, and whether it refuses us. */
  let answered: { error: string; refused: boolean } | null = null;
  const settle = (r: OpenResult) => {
    if (settled) return;
    settled = true;
    timer.cancel();
    ws.off('open', onOpen);
    ws.off('error', onError);
    ws.off('close', onClose);
    done(r);
  };
  const timer = cfg.env.setTimer(cfg.connectTimeoutMs, () => {
    ws.terminate();
    settle({ ok: false, error: `connect timeout after ${cfg.connectTimeoutMs} ms`, refused: null, ws });
  });
  ws.on('upgrade', (res) => {
    raw = res.socket;
  });
  ws.on('unexpected-response', (_req, res) => {
    const why = res.headers[REFUSAL_HEADER];
    const error = `peer answered HTTP ${res.statusCode}${typeof why === 'string' ? `: ${why}` : ''}`;
    // 403: our certificate is not welcome. 503 and the like: busy, try again as usual.
    answered = { error, refused: res.statusCode === 403 };
    ws.terminate();
  });
  const onOpen = () => {
    const socket = raw!;
    if (cfg.tls && cfg.pins) {
      const cert = (socket as TLSSocket).getPeerCertificate();
      const fp = cert?.raw ? certFingerprint(cert.raw) : '';
      if (!cfg.pins.has(fp)) {
        const error = `server certificate ${fp || '(none)'} is not pinned`;
        ws.close(CloseCode.Auth, 'certificate not pinned');
        settle({ ok: false, error, refused: 'us', ws });
        return;
      }
    }
    settle({ ok: true, ws, raw: socket, address: remoteOf(socket) });
  };
  let lastError = '';
  const onError = (err: Error) => {
    // 'close' follows and settles; keep the first, most specific message.
    lastError ||= err.message;
  };
  const onClose = () => {
    settle(
      answered
        ? { ok: false, error: answered.error, refused: answered.refused ? 'peer' : null, ws }
        : { ok: false, error: lastError || 'connection closed', refused: null, ws },
    );
  };
  ws.on('open', onOpen);
  ws.on('error', onError);
  ws.on('close', onClose);
  // Errors after settling belong to the link; until it attaches, swallow them here.
  ws.on('error', () => {});
  return {
    ws,
    cancel() {
      if (settled) return;
      ws.terminate();
      settle({ ok: false, error: 'cancelled', refused: null, ws });
    },
  };
}
