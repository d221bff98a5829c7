// One link per peer node: simultaneous dials, restarts, and a second process claiming a
// node id that is already linked.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Frame } from '../../src/proto/types.ts';
import { blockRequest, closeAll, fakePeer, startNode, type TestNode, waitFor } from './helpers.ts';

const nodes: TestNode[] = [];
async function node(id: string, opts: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, opts);
  nodes.push(n);
  return n;
}
after(() => closeAll(...nodes));

const idOf = (f: Frame) => ('blockRequest' in f ? f.blockRequest.id : -1);

test('simultaneous dial: exactly one link survives, the same on both sides (repeated)', async () => {
  for (let i = 0; i < 16; i++) {
    // Alternate which side has the smaller id and which side starts dialling first.
    const [x, y] = i % 2 === 0 ? [`s${i}-a`, `s${i}-b`] : [`s${i}-b`, `s${i}-a`];
    const a = await node(x, { secret: 'k' });
    const b = await node(y, { secret: 'k' });
    if (i % 4 < 2) {
      a.t.addPeer(b.addr);
      b.t.addPeer(a.addr);
    } else {
      b.t.addPeer(a.addr);
      a.t.addPeer(b.addr);
    }
    const [small, large] = a.nodeId < b.nodeId ? [a, b] : [b, a];
    // The survivor is the connection dialled by the smaller node id, on both sides.
    await waitFor(
      () =>
        small.links.get(large.nodeId)?.peer.outbound === true &&
        large.links.get(small.nodeId)?.peer.outbound === false,
      `round ${i}: preferred link on both sides`,
    );
    // Same connection on both sides: frames sent on each side's current link arrive on the
    // other side's current link.
    small.links.get(large.nodeId)!.send(blockRequest(i));
    large.links.get(small.nodeId)!.send(blockRequest(100 + i));
    await waitFor(
      () =>
        (large.frames.get(small.nodeId) ?? []).some((f) => idOf(f) === i) &&
        (small.frames.get(large.nodeId) ?? []).some((f) => idOf(f) === 100 + i),
      `round ${i}: frames crossed`,
    );
    assert.equal(a.t.links().length, 1);
    assert.equal(b.t.links().length, 1);
    // Opened minus closed is one on each side: no second link lingers.
    assert.equal(a.opened - a.closed.length, 1);
    assert.equal(b.opened - b.closed.length, 1);
    // The losing dialer is parked, not churning.
    await waitFor(() => large.t.dialStatus()[0]?.state === 'parked', `round ${i}: loser parked`);
    assert.equal(a.log.count(/refused/), 0);
    await closeAll(a, b);
  }
});

test('reconnects after the peer restarts on the same port', async () => {
  const a = await node('r-a');
  let b = await node('r-b');
  a.t.addPeer(b.addr);
  await waitFor(() => a.links.has('r-b'), 'first link');
  const port = b.t.address().port;
  await b.t.close();
  await waitFor(() => !a.links.has('r-b'), 'link gone after peer stopped');
  assert.match(a.closed[0] ?? '', /shutting down/);
  b = await node('r-b', { port });
  await waitFor(() => a.links.has('r-b') && b.links.has('r-a'), 'relinked after restart');
  a.links.get('r-b')!.send(blockRequest(7));
  await waitFor(() => b.frames.get('r-a')?.length === 1, 'frame after restart');
});

test('another process claiming a linked node id is refused; the first link stays', async () => {
  const a = await node('m-a');
  const b1 = await node('m-b', { peers: [a.addr] });
  await waitFor(() => a.links.has('m-b') && b1.links.has('m-a'), 'first linked');
  const first = a.links.get('m-b')!;
  const b2 = await node('m-b', { peers: [a.addr] });
  await waitFor(
    () => a.log.count(/refused peer.*already linked from another process/) === 1,
    'refusal logged',
  );
  await waitFor(() => b2.log.count(/peer refused us.*already linked/) === 1, 'refusal seen by the newcomer');
  assert.equal(a.links.get('m-b'), first);
  assert.equal(b2.opened - b2.closed.length, 0);
  assert.equal(b1.links.size, 1);
  // The probe of the first link is answered, so it survives.
  await closeAll(b2);
  assert.equal(a.links.get('m-b'), first);
});

test('a restarted node whose old connection silently died is accepted after a probe', async () => {
  const a = await node('z-a', { probeTimeoutMs: 200 });
  // The "old process": authenticates, then stops reading (no pongs), like a dead host.
  const old = await fakePeer(a.url, { nodeId: 'z-b' });
  await waitFor(() => a.links.has('z-b'), 'old linked');
  old.ws.pause();
  const b = await node('z-b', { peers: [a.addr] });
  await waitFor(() => a.closed.some((r) => /liveness probe/.test(r)), 'old link dropped as dead');
  await waitFor(() => b.links.has('z-a') && a.links.has('z-b'), 'new process linked');
  old.ws.terminate();
});
