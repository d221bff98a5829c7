// The cluster plumbing against the fake daemon (fixtures/fake-daemon.mjs), which keeps a
// TCP connection to each --peer and says so: proxies are wired per link and direction,
// partition()/heal() cut and restore the right links, and waitConverged compares folders.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanupHarness } from './cleanup.ts';
import { startCluster } from './cluster.ts';
import { HarnessError, ProcessExitedError, TimeoutError } from './errors.ts';
import { writeBytes } from './files.ts';
import { waitFor } from './wait.ts';

const FAKE = fileURLToPath(new URL('./fixtures/fake-daemon.mjs', import.meta.url));
after(cleanupHarness);

test('a proxied line: links, byte counters, partition and heal', async () => {
  // Node ids of different lengths make each direction's byte count distinct.
  const c = await startCluster({ n: 3, topology: 'line', entry: FAKE, nodeId: (i) => 'n'.repeat(i + 1) });
  const [n0, n1, n2] = c.nodes;
  assert.deepEqual(c.edges, [
    [0, 1],
    [1, 2],
  ]);
  // Every node dials each neighbour through a proxy, never directly.
  for (const node of c.nodes) {
    const peers = node.daemon.args.flatMap((a, i, all) => (a === '--peer' ? [all[i + 1]] : []));
    assert.equal(peers.length, node.index === 1 ? 2 : 1);
    for (const p of peers)
      assert.ok(!c.nodes.some((m) => p === `127.0.0.1:${m.port}`), `${p} bypasses the proxy`);
  }
  assert.throws(() => c.link(0, 2), HarnessError);

  const hello = (i: number) => `hello ${'n'.repeat(i + 1)}\n`.length;
  await waitFor(() => c.link(0, 1).bytes.up === hello(0) && c.link(0, 1).bytes.down === hello(1), {
    message: 'hellos across link 0-1',
    describe: () => ({ ...c.link(0, 1).bytes }),
  });
  assert.deepEqual({ ...c.link(1, 0).bytes }, { up: hello(1), down: hello(0) });
  const total = hello(0) + 2 * hello(1) + hello(2);
  await waitFor(() => c.totalBytes() === total, { message: `${total} hello bytes on all links` });
  assert.equal(c.link(1, 2).connections, 2);

  const mark0 = n0!.daemon.mark();
  const mark2 = n2!.daemon.mark();
  c.partition([[0], [1, 2]]);
  assert.equal(c.link(0, 1).isCut, true);
  assert.equal(c.link(1, 2).isCut, false);
  await n0!.daemon.waitForLine(/peer down/, 5000, { since: mark0 });
  c.link(0, 1).resetCounters();
  // While cut, reconnects are reset before a byte gets through; link 1-2 is untouched.
  await assert.rejects(n2!.daemon.waitForLine(/peer down/, 200, { since: mark2 }), TimeoutError);
  assert.deepEqual({ ...c.link(0, 1).bytes }, { up: 0, down: 0 });
  assert.ok(c.link(0, 1).accepted > 0, 'node 0 kept trying to reconnect');

  // A new partition replaces the old one: 0-1 heals, 1-2 is cut.
  const mark1 = n1!.daemon.mark();
  c.partition([[0, 1], [2]]);
  assert.equal(c.link(0, 1).isCut, false);
  assert.equal(c.link(1, 2).isCut, true);
  await n1!.daemon.waitForLine(/peer down/, 5000, { since: mark1 });
  await n0!.daemon.waitForLine(/peer up/, 5000, { since: mark0 });

  const mark2b = n2!.daemon.mark();
  c.heal();
  await n2!.daemon.waitForLine(/peer up/, 5000, { since: mark2b });
  await waitFor(() => c.link(1, 2).connections === 2 && c.link(0, 1).connections === 2, {
    message: 'healed',
  });
  assert.deepEqual(await c.stop(), [0, 0, 0]);
  assert.equal(n0!.daemon.running, false);
});

test('waitConverged compares every folder with node 0', async () => {
  const c = await startCluster({ n: 2, topology: 'mesh', proxied: false, entry: FAKE });
  const [a, b] = c.nodes;
  assert.throws(() => c.link(0, 1), /proxied: false/);
  await a!.daemon.waitForLine(new RegExp(`peer up 127.0.0.1:${b!.port}`), 5000);
  for (const node of c.nodes) await writeBytes(node.dir, 'same.txt', 'x');
  const tree = await c.waitConverged({ timeoutMs: 2000 });
  assert.deepEqual([...tree.keys()], ['same.txt']);
  await writeBytes(b!.dir, 'sub/extra.bin', 'y');
  await assert.rejects(c.waitConverged({ timeoutMs: 300 }), (e: unknown) => {
    assert.ok(e instanceof TimeoutError);
    assert.match(e.message, /sub: only in node1/);
    return true;
  });
  await c.stop();
});

test('a node that dies while starting fails startCluster promptly, for both kinds of readiness', async () => {
  const start = Date.now();
  for (const ready of [/never printed/, 'port' as const]) {
    await assert.rejects(
      startCluster({ n: 2, entry: FAKE, env: { FAKE_CRASH_AT_START: '1' }, ready, readyTimeoutMs: 20_000 }),
      (e: unknown) => e instanceof ProcessExitedError,
    );
  }
  assert.ok(Date.now() - start < 10_000);
});
