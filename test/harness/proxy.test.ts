import assert from 'node:assert/strict';
import { createServer, type Server, Socket } from 'node:net';
import { after, test } from 'node:test';
import { seededBytes } from './files.ts';
import { startProxy, type TcpProxy } from './proxy.ts';
import { waitFor } from './wait.ts';

const GREETING = seededBytes(3000, 'greeting');

/** A target that greets each connection with GREETING, then echoes everything back. */
interface Target {
  port: number;
  received: number;
  accepted: number;
  sockets: Set<Socket>;
  server: Server;
}

async function startTarget(): Promise<Target> {
  const t: Target = { port: 0, received: 0, accepted: 0, sockets: new Set(), server: createServer() };
  t.server.on('connection', (s) => {
    t.accepted++;
    t.sockets.add(s);
    s.on('close', () => t.sockets.delete(s));
    s.on('error', () => {});
    s.write(GREETING);
    s.on('data', (d: Buffer) => {
      t.received += d.length;
      s.write(d);
    });
  });
  await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', r));
  const addr = t.server.address();
  t.port = typeof addr === 'object' && addr ? addr.port : 0;
  return t;
}

/** A client socket that accumulates what it reads and remembers how it ended. */
interface Client {
  socket: Socket;
  data: () => Buffer;
  closed: boolean;
  error: NodeJS.ErrnoException | undefined;
}

function connect(port: number): Client {
  const chunks: Buffer[] = [];
  const socket = new Socket();
  const c: Client = { socket, data: () => Buffer.concat(chunks), closed: false, error: undefined };
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', (e) => {
    c.error = e;
  });
  socket.on('close', () => {
    c.closed = true;
  });
  socket.connect(port, '127.0.0.1');
  return c;
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

async function setup(): Promise<{ target: Target; proxy: TcpProxy }> {
  const target = await startTarget();
  const proxy = await startProxy({ target: { host: '127.0.0.1', port: target.port } });
  cleanups.push(
    () => proxy.close(),
    () => {
      for (const s of target.sockets) s.destroy();
      return new Promise((r) => target.server.close(r));
    },
  );
  return { target, proxy };
}

test('forwards exact bytes both ways and counts them exactly', async () => {
  const { target, proxy } = await setup();
  const payload = seededBytes(2_000_003, 'payload');
  const c = connect(proxy.port);
  c.socket.write(payload);
  await waitFor(() => c.data().length >= GREETING.length + payload.length, { message: 'echo' });
  assert.ok(c.data().equals(Buffer.concat([GREETING, payload])));
  assert.equal(target.received, payload.length);
  assert.equal(proxy.bytes.up, payload.length);
  assert.equal(proxy.bytes.down, GREETING.length + payload.length);
  assert.equal(proxy.connections, 1);
  assert.equal(proxy.accepted, 1);
  proxy.resetCounters();
  assert.deepEqual({ ...proxy.bytes }, { up: 0, down: 0 });
  c.socket.end();
  await waitFor(() => c.closed && proxy.connections === 0, { message: 'clean close' });
  assert.equal(c.error, undefined);
});

test('cut() resets open connections and refuses new ones until restore()', async () => {
  const { target, proxy } = await setup();
  const c = connect(proxy.port);
  await waitFor(() => c.data().length === GREETING.length, { message: 'greeting' });
  proxy.cut();
  assert.equal(proxy.isCut, true);
  await waitFor(() => c.closed && target.sockets.size === 0, { message: 'both sides closed' });
  assert.equal(c.error?.code, 'ECONNRESET');

  const during = connect(proxy.port);
  await waitFor(() => during.closed, { message: 'new connection fails during cut' });
  assert.equal(during.data().length, 0);
  assert.equal(target.accepted, 1, 'a connection made during the cut must not reach the target');

  proxy.restore();
  const later = connect(proxy.port);
  later.socket.write('ping');
  await waitFor(() => later.data().length === GREETING.length + 4, { message: 'echo after restore' });
  assert.equal(later.data().subarray(GREETING.length).toString(), 'ping');
  later.socket.destroy();
});

test("cut('blackhole') holds bytes and connections, restore() delivers them in order", async () => {
  const { target, proxy } = await setup();
  const c = connect(proxy.port);
  await waitFor(() => c.data().length === GREETING.length, { message: 'greeting' });
  proxy.cut('blackhole');
  c.socket.write('held-1;');
  c.socket.write('held-2;');
  const fresh = connect(proxy.port);
  await waitFor(() => proxy.accepted === 2, { message: 'second connection accepted by the proxy' });
  // Nothing moves while blackholed: poll a little to be sure no byte arrives.
  await assert.rejects(waitFor(() => target.received > 0 || target.accepted > 1, { timeoutMs: 150 }));
  assert.equal(c.closed, false);

  proxy.restore();
  await waitFor(() => c.data().length === GREETING.length + 14, { message: 'held bytes echoed' });
  assert.equal(c.data().subarray(GREETING.length).toString(), 'held-1;held-2;');
  await waitFor(() => fresh.data().length === GREETING.length, { message: 'held connection dialled' });
  assert.equal(target.accepted, 2);
  c.socket.destroy();
  fresh.socket.destroy();
});

test('setDelay() adds at least the delay each way and keeps order', async () => {
  const { proxy } = await setup();
  const c = connect(proxy.port);
  await waitFor(() => c.data().length === GREETING.length, { message: 'greeting' });
  proxy.setDelay(80);
  const start = Date.now();
  const parts: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    const part = Buffer.from(`#${i};`);
    parts.push(part);
    c.socket.write(part);
  }
  const expected = Buffer.concat(parts);
  await waitFor(() => c.data().length === GREETING.length + expected.length, { message: 'delayed echo' });
  const rtt = Date.now() - start;
  assert.ok(rtt >= 160, `round trip ${rtt} ms through an 80 ms link each way`);
  assert.ok(c.data().subarray(GREETING.length).equals(expected), 'order kept');
  proxy.setDelay(0);
  c.socket.destroy();
});

test('a delayed link carries a large transfer intact (backpressure, no reordering)', async () => {
  const { proxy } = await setup();
  proxy.setDelay(5);
  const payload = seededBytes(12 << 20, 'bulk');
  const c = connect(proxy.port);
  c.socket.write(payload);
  await waitFor(() => c.data().length >= GREETING.length + payload.length, { message: 'bulk echo' });
  assert.ok(c.data().subarray(GREETING.length).equals(payload));
  assert.equal(proxy.bytes.up, payload.length);
  c.socket.destroy();
});

test('setDropProbability(1) resets every new connection soon; 0 leaves them alone', async () => {
  const target = await startTarget();
  const proxy = await startProxy({
    target: { host: '127.0.0.1', port: target.port },
    dropAfterMs: [30, 60],
  });
  cleanups.push(
    () => proxy.close(),
    () => new Promise((r) => target.server.close(r)),
  );
  proxy.setDropProbability(1);
  const c = connect(proxy.port);
  await waitFor(() => c.closed, { timeoutMs: 2000, message: 'dropped connection' });
  assert.equal(proxy.dropped, 1);
  proxy.setDropProbability(0);
  const ok = connect(proxy.port);
  await waitFor(() => ok.data().length === GREETING.length, { message: 'greeting' });
  await assert.rejects(waitFor(() => ok.closed, { timeoutMs: 100 }));
  assert.equal(proxy.dropped, 1);
  ok.socket.destroy();
  assert.throws(() => proxy.setDropProbability(2), RangeError);
});

test('a dead target resets the client', async () => {
  const target = await startTarget();
  const port = target.port;
  await new Promise((r) => target.server.close(r));
  const proxy = await startProxy({ target: { host: '127.0.0.1', port } });
  cleanups.push(() => proxy.close());
  const c = connect(proxy.port);
  await waitFor(() => c.closed, { message: 'client closed' });
  assert.equal(proxy.connections, 0);
});
