// Shared helpers for the transport tests: a transport with its links and log recorded,
// a "fake peer" that drives the handshake by hand over a raw ws client, and waiting on
// conditions (never on fixed sleeps).
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { secretKey } from '../../src/net/auth.ts';
import { Handshake, PROTOCOL_VERSION } from '../../src/net/handshake.ts';
import { createWsTransport, type WsTransport, type WsTransportOptions } from '../../src/net/transport.ts';
import type { PeerLink } from '../../src/net/types.ts';
import type { Frame } from '../../src/proto/types.ts';
import { createLogger, type Logger } from '../../src/util/logger.ts';

export interface LogCapture {
  logger: Logger;
  lines: string[];
  count(re: RegExp): number;
}

export function captureLog(name: string): LogCapture {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    write: (line) => {
      lines.push(line);
      if (process.env.NET_TEST_LOG) process.stderr.write(`[${name}] ${line}\n`);
    },
  });
  return { logger, lines, count: (re) => lines.filter((l) => re.test(l)).length };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface TestNode {
  t: WsTransport;
  log: LogCapture;
  nodeId: string;
  /** Current link per peer node id. */
  links: Map<string, PeerLink>;
  /** Frames received per peer node id, in order. */
  frames: Map<string, Frame[]>;
  opened: number;
  closed: string[];
  url: string;
  addr: string;
}

export async function startNode(nodeId: string, opts: Partial<WsTransportOptions> = {}): Promise<TestNode> {
  const log = captureLog(nodeId);
  const t = await createWsTransport({
    nodeId,
    origin: `${nodeId}~log1`,
    port: 0,
    listenHosts: ['127.0.0.1'],
    logger: log.logger,
    backoff: { initialMs: 20, maxMs: 200, refusedMaxMs: 400 },
    ...opts,
  });
  const addr = `127.0.0.1:${t.address().port}`;
  const node: TestNode = {
    t,
    log,
    nodeId,
    links: new Map(),
    frames: new Map(),
    opened: 0,
    closed: [],
    addr,
    url: `${opts.tls ? 'wss' : 'ws'}://${addr}/ws`,
  };
  t.onLink = (link) => {
    node.opened++;
    const id = link.peer.nodeId;
    node.links.set(id, link);
    link.onFrame = (f) => {
      const list = node.frames.get(id) ?? [];
      list.push(f);
      node.frames.set(id, list);
    };
    link.onClose = (reason) => {
      node.closed.push(reason);
      if (node.links.get(id) === link) node.links.delete(id);
    };
  };
  return node;
}

export function blockRequest(id: number, size = 0): Frame {
  return {
    blockRequest: { id, hash: new Uint8Array(size), pathHint: '', offsetHint: 0, length: 0, runLengths: [] },
  };
}

export interface FakePeer {
  ws: WebSocket;
  received: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
}

export interface FakeOptions {
  nodeId?: string;
  secret?: string | null;
  protocol?: number;
  /** Complete the handshake (default true). */
  handshake?: boolean;
  maxPayload?: number;
}

/** Dial a transport with a raw ws client that performs the handshake by hand. */
export async function fakePeer(url: string, opts: FakeOptions = {}): Promise<FakePeer> {
  const hs = new Handshake(
    {
      nodeId: opts.nodeId ?? 'fake',
      origin: 'fake~1',
      instance: randomBytes(16),
      announce: '',
      clusterSize: () => 2,
      protocol: opts.protocol ?? PROTOCOL_VERSION,
      key: secretKey(opts.secret ?? null),
    },
    true,
    randomBytes(32),
  );
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: opts.maxPayload ?? 256 * 1024 * 1024,
  });
  const received: Buffer[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('error', () => {});
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      if (hs.done || opts.handshake === false) {
        received.push(data);
        return;
      }
      const step = hs.receive(data);
      if (step.kind === 'send') ws.send(step.frame);
      else if (step.kind === 'verified') resolve();
      else if (step.kind === 'refuse') reject(new Error(step.refusal.reason));
    });
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
  });
  done.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      // Hello first, synchronously: the peer's Hello may be processed right after 'open'.
      if (opts.handshake !== false) ws.send(hs.helloFrame);
      resolve();
    });
    ws.once('error', reject);
  });
  if (opts.handshake === false) return { ws, received, closed };
  await done;
  return { ws, received, closed };
}

/** Close every node, then check nothing is left listening. */
export async function closeAll(...nodes: (TestNode | null | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.t.close()));
}

/** Whether this machine has an IPv6 loopback (tests that need ::1 skip without it). */
export async function hasIpv6Loopback(): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}
