// GET /status on the daemon's port. Loopback clients are answered freely; anyone else must
// send the cluster secret as a bearer token (compared in constant time).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WsTransport } from '../net/transport.ts';
import type { Node } from '../node/node.ts';
import { buildStatus } from './status-model.ts';

export interface StatusRouteOptions {
  node: () => Node | null;
  transport: () => WsTransport | undefined;
  folder: string;
  secret: string | null;
  clusterSize: number;
}

function isLoopbackAddress(a: string | undefined): boolean {
  return !!a && (a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.'));
}

function sameSecret(given: string, secret: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(secret));
}

export function createStatusRoute(o: StatusRouteOptions) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/status') return false;
    const reply = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.method !== 'GET') {
      reply(405, { error: 'GET only' });
      return true;
    }
    if (!isLoopbackAddress(req.socket.remoteAddress)) {
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!o.secret || !auth || !sameSecret(auth[1]!, o.secret)) {
        reply(401, { error: 'status is only for loopback clients or with the cluster secret' });
        return true;
      }
    }
    const node = o.node();
    const transport = o.transport();
    if (!node || !transport) {
      reply(503, { error: 'starting' });
      return true;
    }
    buildStatus({ node, transport, folder: o.folder, clusterSize: o.clusterSize }).then(
      (s) => reply(200, s),
      (err: unknown) => reply(500, { error: String(err) }),
    );
    return true;
  };
}
