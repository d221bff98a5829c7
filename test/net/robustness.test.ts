// Misbehaving and slow peers: garbage, oversized and out-of-place frames, handshakes that
// never finish, floods of pending connections, a reader that stops reading, a dead peer.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WebSocket } from 'ws';
import { CloseCode } from '../../src/net/errors.ts';
import type { WsLink } from '../../src/net/link.ts';
import { encodeFrame } from '../../src/proto/codec.ts';
import { blockRequest, closeAll, fakePeer, startNode, type TestNode, waitFor } from './helpers.ts';

const nodes: TestNode[] = [];
async function node(id: string, opts: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, opts);
  nodes.push(n);
  return n;
}
after(() => closeAll(...nodes));

/** A node with an honest peer linked, to show it keeps serving while others misbehave. */
async function servedPair(id: string, opts: Parameters<typeof startNode>[1] = {}) {
  const a = await node(id, { secret: 'k', ...opts });
  const good = await node(`${id}-good`, { secret: 'k', peers: [a.addr] });
  await waitFor(() => a.links.has(good.nodeId) && good.links.has(a.nodeId), 'honest peer linked');
  return { a, good };
}

async function stillServing(a: TestNode, good: TestNode, id: number): Promise<void> {
  assert.ok(a.links.has(good.nodeId), 'honest link still up');
  good.links.get(a.nodeId)!.send(blockRequest(id));
  await waitFor(
    () => (a.frames.get(good.nodeId) ?? []).some((f) => 'blockRequest' in f && f.blockRequest.id === id),
    'frame',
  );
}

test('garbage bytes on an authenticated link close that link only', async () => {
  const { a, good } = await servedPair('g');
  for (const garbage of [
    Buffer.from([0x0a, 0x05, 0x01]),
    Buffer.alloc(0),
    Buffer.from('ffffffffff', 'hex'),
  ]) {
    const bad = await fakePeer(a.url, { nodeId: 'bad', secret: 'k' });
    await waitFor(() => a.links.has('bad'), 'bad peer linked');
    bad.ws.send(garbage);
    const { code, reason } = await bad.closed;
    assert.equal(code, CloseCode.BadFrame);
    assert.match(reason, /undecodable frame/);
    await waitFor(() => !a.links.has('bad'), 'bad link gone');
  }
  assert.ok(a.closed.every((r) => /undecodable frame/.test(r)));
  await stillServing(a, good, 1);
});

test('a handshake frame after the handshake closes the link', async () => {
  const { a, good } = await servedPair('hh');
  const bad = await fakePeer(a.url, { nodeId: 'bad', secret: 'k' });
  await waitFor(() => a.links.has('bad'), 'linked');
  bad.ws.send(encodeFrame({ proof: { mac: new Uint8Array(32) } }));
  assert.equal((await bad.closed).code, CloseCode.BadFrame);
  await waitFor(
    () => a.closed.some((r) => /handshake frame after the handshake/.test(r)),
    'reason reached the core',
  );
  await stillServing(a, good, 2);
});

test('an oversized frame closes that link; the transport keeps serving others', async () => {
  const { a, good } = await servedPair('big', { maxFrameBytes: 64 * 1024 });
  const bad = await fakePeer(a.url, { nodeId: 'bad', secret: 'k' });
  await waitFor(() => a.links.has('bad'), 'linked');
  bad.ws.send(encodeFrame(blockRequest(9, 128 * 1024)));
  assert.equal((await bad.closed).code, CloseCode.TooBig);
  await waitFor(() => a.closed.some((r) => /payload/i.test(r)), 'closed for size');
  await stillServing(a, good, 3);
  // Our own send() refuses a frame the peer would reject, with a typed error.
  assert.throws(() => a.links.get(good.nodeId)!.send(blockRequest(1, 128 * 1024)), {
    code: 'ERR_FRAME_TOO_LARGE',
  });
});

test('text frames are refused', async () => {
  const a = await node('tx');
  const bad = await fakePeer(a.url, { nodeId: 'bad' });
  await waitFor(() => a.links.has('bad'), 'linked');
  bad.ws.send('hello');
  assert.equal((await bad.closed).code, CloseCode.TextFrame);
});

test('a client that never completes the handshake is dropped after the timeout', async () => {
  const { a, good } = await servedPair('slow', { handshakeTimeoutMs: 300 });
  const t0 = Date.now();
  const idle = await fakePeer(a.url, { handshake: false });
  const { code } = await idle.closed;
  const took = Date.now() - t0;
  assert.equal(code, CloseCode.HandshakeTimeout);
  assert.ok(took >= 250 && took < 3_000, `dropped after ${took} ms`);
  await waitFor(() => a.log.count(/handshake timed out/) === 1, 'logged');
  await stillServing(a, good, 4);
});

test('too much data before authenticating closes the connection', async () => {
  const a = await node('flood-hs');
  const c = await fakePeer(a.url, { handshake: false });
  c.ws.send(Buffer.alloc(512 * 1024));
  assert.equal((await c.closed).code, CloseCode.Handshake);
});

test('connections beyond maxPendingConnections are turned away at once', async () => {
  const a = await node('pend', { maxPendingConnections: 2, handshakeTimeoutMs: 10_000 });
  const p1 = await fakePeer(a.url, { handshake: false });
  const p2 = await fakePeer(a.url, { handshake: false });
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(a.url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('open', () => resolve(101));
  });
  assert.equal(status, 503);
  assert.equal(a.log.count(/too many unauthenticated connections/), 1);
  // Once one pending connection goes, there is room again.
  p1.ws.terminate();
  await p1.closed;
  const ok = await node('pend-ok', { peers: [a.addr] });
  await waitFor(() => ok.links.has('pend'), 'a real peer links once there is room');
  p2.ws.terminate();
});

test('backpressure: send() returns false under a flood to a paused reader; drained() resolves later', async () => {
  const a = await node('bp');
  const reader = await fakePeer(a.url, { nodeId: 'reader' });
  await waitFor(() => a.links.has('reader'), 'linked');
  const link = a.links.get('reader')!;
  reader.ws.pause();
  const frame = blockRequest(0, 1024 * 1024);
  let sent = 0;
  while (link.send(frame)) {
    sent++;
    assert.ok(sent < 512, 'send() never reported backpressure');
  }
  sent++;
  assert.ok(link.bufferedBytes > 8 * 1024 * 1024, `buffered ${link.bufferedBytes}`);
  let drained = false;
  const done = link.drained().then(() => {
    drained = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false, 'drained() resolved while the reader is paused');
  reader.ws.resume();
  await done;
  assert.ok(link.bufferedBytes <= 1024 * 1024);
  await waitFor(() => reader.received.length === sent, `all ${sent} frames delivered`, 20_000);
});

test('keepalive drops a peer that stops answering', async () => {
  const a = await node('ka', { keepaliveMs: 100 });
  const mute = await fakePeer(a.url, { nodeId: 'mute' });
  await waitFor(() => a.links.has('mute'), 'linked');
  const t0 = Date.now();
  mute.ws.pause(); // no more reads, so no pongs
  await waitFor(() => a.closed.some((r) => /keepalive/.test(r)), 'dropped by keepalive', 3_000);
  assert.ok(Date.now() - t0 >= 150);
  mute.ws.terminate();
  // An idle peer that answers pings stays up over several intervals.
  const b = await node('ka-b', { peers: [a.addr], keepaliveMs: 100 });
  await waitFor(() => a.links.has('ka-b') && b.links.has('ka'), 'linked');
  const link = a.links.get('ka-b') as WsLink;
  const before = link.activity;
  await waitFor(() => link.activity >= before + 5, 'five pongs (or pings) on an idle link', 5_000);
  assert.equal(a.links.get('ka-b'), link);
});
