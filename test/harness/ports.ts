// Free TCP ports for daemons and proxies. The port is found by binding port 0 and closing
// again, so another process could in principle grab it before the caller binds it; within
// this process we at least never hand out the same port twice (parallel tests in one file).
import { createServer, Socket } from 'node:net';
import { waitFor } from './wait.ts';

const handedOut = new Set<number>();

function bindZero(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A port that was free a moment ago and that this process has not handed out before. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await bindZero(host);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no fresh port on ${host} after 100 attempts`);
}

/** True if something accepts TCP connections on host:port right now. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

/** Poll until host:port accepts connections (a daemon finished starting). */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 30_000): Promise<void> {
  await waitFor(() => isListening(port, host), {
    timeoutMs,
    intervalMs: 25,
    message: `a listener on ${host}:${port}`,
  });
}
