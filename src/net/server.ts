// One HTTP(S) server for the whole port: WebSocket upgrades and the daemon's own routes.
// A node server listens on one address, so the first host is bound by the http server
// itself (which keeps its header/request timeouts working) and each further host by a
// plain net.Server that hands its connections to it. Hosts whose address family is
// missing on this machine (typically ::1) are skipped with a warning.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../util/logger.ts';
import { NetError, PortInUseError } from './errors.ts';

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer | (string | Buffer)[];
}

export interface ListenOptions {
  port: number;
  hosts: string[];
  tls: TlsFiles | null;
  /** Ask dialling peers for their certificate (pinning); checked by the upgrade handler. */
  requestCert: boolean;
  logger: Logger;
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface Listener {
  readonly port: number;
  /** The hosts actually bound. */
  readonly hosts: string[];
  close(): Promise<void>;
}

const UNAVAILABLE = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);
/** With port 0 the first host picks the port; another may hold it on a second host. */
const PORT_ZERO_ATTEMPTS = 5;

function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

export async function listen(opts: ListenOptions): Promise<Listener> {
  if (opts.hosts.length === 0) throw new NetError('ERR_BAD_OPTIONS', 'no listen hosts given');
  for (let attempt = 1; ; attempt++) {
    try {
      return await bindAll(opts);
    } catch (err) {
      const retry = err instanceof RetryablePortClash && attempt < PORT_ZERO_ATTEMPTS;
      if (!retry) throw err instanceof RetryablePortClash ? err.error : err;
    }
  }
}

class RetryablePortClash extends Error {
  constructor(readonly error: PortInUseError) {
    super(error.message);
  }
}

async function bindAll(opts: ListenOptions): Promise<Listener> {
  const server = opts.tls
    ? https.createServer({
        cert: opts.tls.cert,
        key: opts.tls.key,
        ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
        requestCert: opts.requestCert,
        // Pinning checks the certificate itself; self-signed ones must get that far.
        rejectUnauthorized: false,
      })
    : http.createServer();
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('request', opts.onRequest);
  server.on('upgrade', opts.onUpgrade);
  server.on('clientError', (err: Error, socket: Duplex) => {
    opts.logger.debug('bad http request', { error: err.message });
    socket.destroy();
  });
  if (opts.tls) {
    server.on('tlsClientError', (err: Error) =>
      opts.logger.debug('tls handshake failed', { error: err.message }),
    );
  }

  const extras: net.Server[] = [];
  const bound: string[] = [];
  let port = opts.port;
  const closeAll = async () => {
    const closed = Promise.all([closeServer(server), ...extras.map(closeServer)]);
    // server.close() waits for open connections (idle keep-alives, stray upgrades): end them.
    for (const s of sockets) s.destroy();
    await closed;
  };
  for (const host of opts.hosts) {
    const primary = bound.length === 0;
    const target = primary ? server : net.createServer((c) => server.emit('connection', c));
    try {
      port = await listenOn(target, port, host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (UNAVAILABLE.has(code)) {
        opts.logger.warn('listen address not available on this machine; skipped', { host, error: code });
        continue;
      }
      await closeAll();
      if (code === 'EADDRINUSE') {
        const e = new PortInUseError(port, host, err);
        throw opts.port === 0 && !primary ? new RetryablePortClash(e) : e;
      }
      throw new NetError('ERR_LISTEN', `cannot listen on ${host} port ${port}: ${(err as Error).message}`, {
        host,
        port,
        cause: err,
      });
    }
    // Errors after binding (e.g. EMFILE on accept) must not crash the daemon.
    target.on('error', (e: Error) => opts.logger.error('listener error', { host, port, error: e.message }));
    if (!primary) extras.push(target);
    bound.push(host);
  }
  if (bound.length === 0) {
    throw new NetError('ERR_LISTEN', `none of the listen hosts is available: ${opts.hosts.join(', ')}`, {
      port,
    });
  }
  return { port, hosts: bound, close: closeAll };
}

/** The plain HTTP side of the port: /ws wants an upgrade, the rest goes to the daemon. */
export function routeHttp(
  onHttp: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ws') {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('WebSocket endpoint: upgrade required\n');
      return;
    }
    let handled = false;
    try {
      handled = onHttp?.(req, res) ?? false;
    } catch (err) {
      logger.error('http handler threw', { path, error: String(err) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
      return;
    }
    if (!handled) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  };
}
