// End-to-end transport behaviour over real sockets on loopback: linking with and without
// a secret, refusals on both sides, the HTTP side of the port, ports and addresses.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { wsMaskBackend } from '../../src/net/mask.ts';
import { createWsTransport } from '../../src/net/transport.ts';
import type { PeerLink } from '../../src/net/types.ts';
import type { Frame } from '../../src/proto/types.ts';
import { blockRequest, closeAll, hasIpv6Loopback, startNode, type TestNode, waitFor } from './helpers.ts';

const noV6 = (await hasIpv6Loopback()) ? false : 'no IPv6 loopback (::1) on this machine';

const nodes: TestNode[] = [];
async function node(id: string, opts: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, opts);
  nodes.push(n);
  return n;
}
after(() => closeAll(...nodes));

describe('linking', () => {
  test('same secret: one link each way, frames arrive in order both ways', async () => {
    const a = await node('a1', { secret: 's3cret' });
    const b = await node('b1', { secret: 's3cret', peers: [a.addr] });
    await waitFor(() => a.links.has('b1') && b.links.has('a1'), 'both sides linked');
    const ab = a.links.get('b1')!;
    const ba = b.links.get('a1')!;
    assert.equal(ab.peer.outbound, false);
    assert.equal(ba.peer.outbound, true);
    assert.equal(ba.peer.origin, 'a1~log1');
    assert.match(ab.peer.address, /^127\.0\.0\.1:\d+$/);
    for (let i = 0; i < 200; i++) {
      ab.send(blockRequest(i));
      ba.send(blockRequest(1000 + i));
    }
    await waitFor(
      () => (a.frames.get('b1')?.length ?? 0) === 200 && (b.frames.get('a1')?.length ?? 0) === 200,
      'frames',
    );
    const ids = (f: unknown[]) =>
      f.map((x) => (x as ReturnType<typeof blockRequest> & { blockRequest: { id: number } }).blockRequest.id);
    assert.deepEqual(ids(b.frames.get('a1')!), [...Array(200).keys()]);
    assert.deepEqual(
      ids(a.frames.get('b1')!),
      [...Array(200).keys()].map((i) => 1000 + i),
    );
    assert.equal(a.opened, 1);
    assert.equal(b.opened, 1);
    await closeAll(a, b);
    assert.equal(a.closed.length, 1);
    assert.equal(b.closed.length, 1);
  });

  test('block replies, large and small, arrive whole and in order both ways', async () => {
    const a = await node('a9', { secret: 's' });
    const b = await node('b9', { secret: 's', peers: [a.addr] });
    await waitFor(() => a.links.has('b9') && b.links.has('a9'), 'both sides linked');
    const sizes = [1, 100, 16 * 1024 - 1, 16 * 1024, 80_000, 256 * 1024, 1 << 20];
    const data = (i: number, n: number) => new Uint8Array(n).map((_, k) => (k * 31 + i) & 255);
    const send = (l: PeerLink, base: number) => {
      for (const [i, n] of sizes.entries())
        l.send({ blockReply: { id: base + i, data: data(base + i, n), missing: false } });
    };
    send(a.links.get('b9')!, 100);
    send(b.links.get('a9')!, 200);
    a.links.get('b9')!.send({ blockReply: { id: 7, data: new Uint8Array(), missing: true } });
    const got = (t: TestNode, from: string, want: number) =>
      waitFor(() => (t.frames.get(from)?.length ?? 0) === want, `${t.nodeId} got ${want} frames`);
    await got(b, 'a9', sizes.length + 1);
    await got(a, 'b9', sizes.length);
    const check = (frames: Frame[], base: number) => {
      for (const [i, n] of sizes.entries()) {
        const f = frames[i]!;
        assert.ok('blockReply' in f);
        assert.equal(f.blockReply.id, base + i);
        assert.equal(f.blockReply.missing, false);
        assert.ok(Buffer.from(f.blockReply.data).equals(data(base + i, n)), `reply ${base + i}, ${n} bytes`);
      }
    };
    check(b.frames.get('a9')!, 100);
    check(a.frames.get('b9')!, 200);
    assert.deepEqual(b.frames.get('a9')!.at(-1), {
      blockReply: { id: 7, data: new Uint8Array(), missing: true },
    });
  });

  test('wrong secret: no link on either side, each logs why once', async () => {
    const a = await node('a2', { secret: 'one' });
    const b = await node('b2', { secret: 'two', peers: [a.addr] });
    await waitFor(() => a.log.count(/refused peer.*wrong secret/) >= 1, 'a logs wrong secret');
    await waitFor(() => b.log.count(/peer refused us.*wrong secret/) >= 1, 'b logs wrong secret');
    // Several retries happen meanwhile; the log stays at one line each.
    await waitFor(() => b.t.dialStatus()[0]!.failures >= 3, 'b retried');
    assert.equal(a.log.count(/refused peer|peer refused us/), 1);
    assert.equal(b.log.count(/refused peer|peer refused us/), 1);
    assert.equal(a.opened + b.opened, 0);
  });

  test('secret on the accepting side only: refused, each side says which', async () => {
    const a = await node('a3', { secret: 'only-a' });
    const b = await node('b3', { peers: [a.addr] });
    await waitFor(
      () => a.log.count(/refused peer.*peer has no secret but this node requires one/) === 1,
      'a',
    );
    await waitFor(
      () => b.log.count(/peer refused us.*this node has no secret but the peer requires one/) === 1,
      'b',
    );
    await waitFor(() => b.t.dialStatus()[0]!.failures >= 3, 'b retried');
    assert.equal(a.log.count(/refused peer|peer refused us/), 1);
    assert.equal(b.log.count(/refused peer|peer refused us/), 1);
    assert.equal(a.opened + b.opened, 0);
  });

  test('secret on the dialling side only: refused, each side says which', async () => {
    const a = await node('a3b');
    const b = await node('b3b', { secret: 'only-b', peers: [a.addr] });
    await waitFor(() => a.log.count(/refused peer.*peer has a secret but this node has none/) === 1, 'a');
    await waitFor(
      () => b.log.count(/peer refused us.*this node has a secret but the peer has none/) === 1,
      'b',
    );
    assert.equal(a.opened + b.opened, 0);
  });

  test('no secret on either side: linked', async () => {
    const a = await node('a4');
    const b = await node('b4', { peers: [a.addr] });
    await waitFor(() => a.links.has('b4') && b.links.has('a4'), 'linked');
  });

  test('protocol version mismatch: refused with a clear reason on both sides', async () => {
    const a = await node('a5', { protocol: 1 });
    const b = await node('b5', { protocol: 2, peers: [a.addr] });
    await waitFor(
      () => a.log.count(/refused peer.*protocol version mismatch: peer speaks 2, this node 1/) === 1,
      'a',
    );
    await waitFor(
      () => b.log.count(/refused peer.*protocol version mismatch: peer speaks 1, this node 2/) === 1,
      'b',
    );
    assert.equal(a.opened + b.opened, 0);
  });

  test('dialling ourselves is detected and stopped', async () => {
    const a = await node('a6');
    a.t.addPeer(a.addr);
    await waitFor(() => a.t.dialStatus()[0]?.state === 'self', 'self detected');
    assert.equal(a.opened, 0);
    assert.equal(a.log.count(/this node itself/), 1);
  });

  test('localhost dialling reaches a peer on 127.0.0.1 and one on ::1 only', { skip: noV6 }, async () => {
    const v4 = await node('a7', { listenHosts: ['127.0.0.1'] });
    const v6 = await node('b7', { listenHosts: ['::1'] });
    const c = await node('c7', {
      peers: [`localhost:${v4.t.address().port}`, `localhost:${v6.t.address().port}`],
    });
    await waitFor(() => c.links.has('a7') && c.links.has('b7'), 'c linked to both');
  });

  test('addPeer at runtime', async () => {
    const a = await node('a8');
    const b = await node('b8');
    b.t.addPeer(a.addr);
    b.t.addPeer(a.addr); // twice: one dialer
    assert.equal(b.t.dialStatus().length, 1);
    await waitFor(() => a.links.has('b8'), 'linked');
    assert.throws(() => b.t.addPeer('::1:4000'), { code: 'ERR_BAD_PEER_ADDRESS' });
  });
});

describe('port', () => {
  test('HTTP routes are served on the same port; unknown ones 404', async () => {
    const a = await node('h1', {
      onHttp: (req, res) => {
        if (req.url !== '/status') return false;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
        return true;
      },
    });
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: a.t.address().port, path, agent: false }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    assert.deepEqual(await get('/status'), { status: 200, body: '{"ok":true}' });
    assert.equal((await get('/nope')).status, 404);
    assert.equal((await get('/ws')).status, 426);
    // And a peer links over the very same port.
    const b = await node('h2', { peers: [a.addr] });
    await waitFor(() => b.links.has('h1'), 'linked');
  });

  test('a port in use rejects with ERR_PORT_IN_USE naming the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        createWsTransport({ nodeId: 'p1', origin: 'p1~1', port, listenHosts: ['127.0.0.1'] }),
        (err: NodeJS.ErrnoException & { port?: number }) =>
          err.code === 'ERR_PORT_IN_USE' && err.port === port && err.message.includes(String(port)),
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  test('listens on both loopback families and reports it; unavailable hosts are skipped', {
    skip: noV6,
  }, async () => {
    const a = await node('l1', { listenHosts: ['127.0.0.1', '::1', '192.0.2.123'] });
    const { port, hosts, tls } = a.t.address();
    assert.ok(port > 0);
    assert.deepEqual(hosts, ['127.0.0.1', '::1']);
    assert.equal(tls, false);
    assert.equal(a.log.count(/listen address not available.*192\.0\.2\.123/), 1);
    const b = await node('l2', { peers: [`[::1]:${port}`] });
    await waitFor(() => b.links.has('l1'), 'linked over ::1');
  });

  test('ws uses a native masking implementation (bufferutil)', () => {
    assert.ok(['bufferutil', 'node'].includes(wsMaskBackend()), `mask backend is ${wsMaskBackend()}`);
  });
});
