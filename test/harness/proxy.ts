// A user-space TCP proxy placed on the link between two daemons (this kernel has no netem),
// so tests can partition, slow down or break one link and count the bytes it carries.
//
// Partition semantics, cut(mode):
//  - 'reset' (default): open connections are reset (RST) on both sides at once, and new
//    connections are accepted and reset straight away. To a WebSocket client this looks
//    like a peer that went away: ECONNRESET now, and every reconnect attempt fails fast.
//  - 'blackhole': nothing is forwarded and nothing is closed, like a cable pulled out:
//    sockets stop reading (so the sender's buffers fill up, as with TCP under a partition)
//    and new connections are accepted but not dialled through. Only the daemons' own
//    keepalive/handshake timeouts notice. After restore() the held bytes flow on in order,
//    as TCP retransmission would deliver them after a short outage.
// Loss: TCP never loses bytes, so a flaky link is modelled as connections that get reset:
// setDropProbability(p) resets each new connection with probability p after a random
// short time (dropAfterMs), chosen from a seeded PRNG.
import { createServer, type Server } from 'node:net';
import { HarnessError } from './errors.ts';
import { createRng } from './prng.ts';
import { Connection, type CutMode, type State } from './proxy-pipe.ts';

export type { CutMode } from './proxy-pipe.ts';

export interface ProxyOptions {
  target: { host: string; port: number };
  listenHost?: string;
  /** Port to listen on (default 0: the kernel picks one, which cannot race). */
  listenPort?: number;
  /** Seed for drop decisions and drop times (default: fixed). */
  seed?: number | string;
  /** A dropped connection lives a uniform random time in [min, max] ms (default [0, 500]). */
  dropAfterMs?: [number, number];
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Partition the link (see the file comment for the two modes). */
  cut(mode?: CutMode): void;
  /** Heal the link: new connections go through again (held bytes flow on after a blackhole). */
  restore(): void;
  readonly isCut: boolean;
  /** Delay every chunk by ms in both directions, keeping order; applies to chunks read from now on. */
  setDelay(ms: number): void;
  /** Reset each new connection with probability p after a short random time. */
  setDropProbability(p: number): void;
  /** Payload bytes written onwards: up = client -> target, down = target -> client. */
  readonly bytes: { readonly up: number; readonly down: number };
  /** Zero bytes, accepted and dropped. */
  resetCounters(): void;
  /** Connections open right now. */
  readonly connections: number;
  /** Connections accepted since start (or resetCounters). */
  readonly accepted: number;
  /** Connections reset by setDropProbability since start (or resetCounters). */
  readonly dropped: number;
  close(): Promise<void>;
}

const registry = new Set<TcpProxy>();

/** Close every proxy this process started and has not closed yet (for `after` hooks). */
export async function closeAllProxies(): Promise<void> {
  await Promise.all([...registry].map((p) => p.close()));
}

export async function startProxy(opts: ProxyOptions): Promise<TcpProxy> {
  const host = opts.listenHost ?? '127.0.0.1';
  const [dropMin, dropMax] = opts.dropAfterMs ?? [0, 500];
  const rng = createRng(opts.seed ?? 'proxy');
  const state: State = { mode: null, delayMs: 0, bytes: { up: 0, down: 0 } };
  const conns = new Set<Connection>();
  let dropP = 0;
  let accepted = 0;
  let dropped = 0;

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    accepted++;
    if (state.mode === 'reset') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const conn = new Connection(client, opts.target, state, (c) => conns.delete(c));
    conns.add(conn);
    if (dropP > 0 && rng.float() < dropP) conn.dropAfter(rng.int(dropMin, dropMax), () => dropped++);
    conn.flowChanged();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.listenPort ?? 0, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A forgotten proxy must not keep a test process alive (its open sockets still do).
  server.unref();
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new HarnessError('proxy: no listening address');

  const proxy: TcpProxy = {
    host,
    port: addr.port,
    cut(mode: CutMode = 'reset') {
      state.mode = mode;
      for (const c of conns) {
        if (mode === 'reset') c.reset();
        else c.flowChanged();
      }
    },
    restore() {
      state.mode = null;
      for (const c of conns) {
        c.dial();
        c.flowChanged();
      }
    },
    get isCut() {
      return state.mode !== null;
    },
    setDelay(ms: number) {
      if (!(ms >= 0)) throw new RangeError(`proxy delay must be >= 0, got ${ms}`);
      state.delayMs = ms;
    },
    setDropProbability(p: number) {
      if (!(p >= 0 && p <= 1)) throw new RangeError(`drop probability must be in [0, 1], got ${p}`);
      dropP = p;
    },
    bytes: state.bytes,
    resetCounters() {
      state.bytes.up = 0;
      state.bytes.down = 0;
      accepted = 0;
      dropped = 0;
    },
    get connections() {
      return conns.size;
    },
    get accepted() {
      return accepted;
    },
    get dropped() {
      return dropped;
    },
    async close() {
      registry.delete(proxy);
      if (!server.listening) return;
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of conns) c.reset();
      await closed;
    },
  };
  registry.add(proxy);
  return proxy;
}
