import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { SimCluster } from './cluster.ts';

const verbose = !!process.env.SIM_VERBOSE;
const paths = (c: SimCluster, i: number) => c.snapshot(i).map((e) => e.path);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/** The path holds exactly this text on node i. */
const text = (c: SimCluster, i: number, p: string) => c.snapshot(i).find((x) => x.path === p)?.sha256;
const is = (s: string) => sha(s);

async function cluster(n = 2, seed = 1) {
  const c = new SimCluster({ n, seed, verbose });
  await c.start();
  return c;
}

function assertConverged(c: SimCluster) {
  for (let i = 1; i < c.nodes.length; i++)
    assert.deepEqual(c.snapshot(i), c.snapshot(0), `node ${i} differs from node 0`);
}

test('create, modify, delete, nested folders, empty files and folders, a symlink, the exec bit', async () => {
  const c = await cluster();
  const u = c.user(0);
  u.mkdir('a/b/c');
  u.mkdir('empty');
  u.writeFile('a/b/c/deep.txt', 'deep');
  u.writeFile('a/empty.txt', '');
  u.writeFile('run.sh', '#!/bin/sh\n', 0o755);
  u.symlink('a/b', 'link');
  await c.settle({ converge: true });
  assertConverged(c);
  assert.deepEqual(paths(c, 1), [
    'a',
    'a/b',
    'a/b/c',
    'a/b/c/deep.txt',
    'a/empty.txt',
    'empty',
    'link',
    'run.sh',
  ]);
  assert.equal(c.snapshot(1).find((e) => e.path === 'run.sh')?.mode, 0o755);
  c.user(1).writeFile('a/b/c/deep.txt', 'deeper');
  c.user(1).rm('a/empty.txt');
  c.user(1).rmdir('empty');
  await c.settle({ converge: true });
  assertConverged(c);
  assert.equal(text(c, 0, 'a/b/c/deep.txt'), is('deeper'));
  assert.deepEqual(paths(c, 0), ['a', 'a/b', 'a/b/c', 'a/b/c/deep.txt', 'link', 'run.sh']);
  await c.stop();
});

test('rename a file and a directory: one operation each, arriving as renames', async () => {
  const c = await cluster();
  const u = c.user(0);
  u.mkdir('dir');
  for (let i = 0; i < 5; i++) u.writeFile(`dir/f${i}.txt`, `file ${i}`);
  await c.settle({ converge: true });
  const before = c.nodes[0]!.store.held(c.nodes[0]!.store.origin);
  u.mv('dir/f0.txt', 'dir/g0.txt');
  u.mv('dir', 'moved');
  await c.settle({ converge: true });
  assertConverged(c);
  assert.deepEqual(paths(c, 1), [
    'moved',
    'moved/f1.txt',
    'moved/f2.txt',
    'moved/f3.txt',
    'moved/f4.txt',
    'moved/g0.txt',
  ]);
  assert.equal(c.nodes[0]!.store.held(c.nodes[0]!.store.origin) - before, 2, 'two renames, two operations');
  assert.equal(text(c, 1, 'moved/g0.txt'), is('file 0'));
  await c.stop();
});

test('concurrent edits during a partition: both versions survive on both nodes', async () => {
  const c = await cluster();
  c.user(0).writeFile('doc.txt', 'base');
  await c.settle({ converge: true });
  c.partition([[0], [1]]);
  c.user(0).writeFile('doc.txt', 'from n0');
  await c.settle();
  c.clock.advanceTo(c.clock.now + 2000);
  c.user(1).writeFile('doc.txt', 'from n1');
  await c.settle();
  c.heal();
  await c.settle({ converge: true });
  assertConverged(c);
  const all = paths(c, 0);
  assert.equal(all.length, 2, `expected the file and one conflict copy, got ${all}`);
  assert.equal(text(c, 0, 'doc.txt'), is('from n1'), 'the later edit wins');
  const copy = all.find((p) => p !== 'doc.txt')!;
  assert.match(copy, /^doc\.conflict-n0-\d{8}-\d{6}\.txt$/);
  assert.equal(text(c, 0, copy), is('from n0'));
  await c.stop();
});

test('delete concurrent with a modification: the modification wins', async () => {
  const c = await cluster();
  c.user(0).writeFile('x.txt', 'v1');
  await c.settle({ converge: true });
  c.partition([[0], [1]]);
  c.user(0).rm('x.txt');
  c.user(1).writeFile('x.txt', 'v2');
  await c.settle();
  c.heal();
  await c.settle({ converge: true });
  assertConverged(c);
  assert.equal(text(c, 0, 'x.txt'), is('v2'));
  await c.stop();
});

test('identical concurrent contents are not a conflict', async () => {
  const c = await cluster();
  c.partition([[0], [1]]);
  c.user(0).writeFile('same.txt', 'identical');
  c.user(1).writeFile('same.txt', 'identical');
  await c.settle();
  c.heal();
  await c.settle({ converge: true });
  assertConverged(c);
  assert.deepEqual(paths(c, 0), ['same.txt']);
  await c.stop();
});

test('ping-pong edits make exactly one operation each (no echo)', async () => {
  const c = await cluster();
  for (let i = 0; i < 20; i++) {
    c.user(i % 2).writeFile('pp.txt', `edit ${i}`);
    await c.settle({ converge: true });
  }
  assertConverged(c);
  const total = c.nodes.reduce((sum, n) => sum + n.store.held(n.store.origin), 0);
  assert.equal(total, 20);
  assert.equal(text(c, 1, 'pp.txt'), is('edit 19'));
  await c.stop();
});

test('edits made while a node is down sync after it restarts, and offline edits on it too', async () => {
  const c = await cluster();
  c.user(0).writeFile('keep.txt', 'k');
  await c.settle({ converge: true });
  await c.crash(1);
  c.user(0).writeFile('while-down.txt', 'w');
  c.nodes[1]!.fs.user.writeFile('offline.txt', 'o');
  c.nodes[1]!.fs.user.rm('keep.txt');
  await c.settle();
  await c.restart(1);
  await c.settle({ converge: true });
  assertConverged(c);
  assert.deepEqual(paths(c, 0), ['offline.txt', 'while-down.txt']);
  await c.stop();
});

test('a renamed folder is renamed on the peer in one step, keeping inodes', async () => {
  const c = await cluster();
  const u = c.user(0);
  u.mkdir('big/sub');
  for (let i = 0; i < 30; i++) u.writeFile(`big/sub/f${i}`, `file ${i}`);
  await c.settle({ converge: true });
  const movedBefore = c.nodes[1]!.node.reconcileStats.moved;
  u.mv('big', 'renamed');
  await c.settle({ converge: true });
  assertConverged(c);
  assert.equal(c.snapshot(1).filter((e) => e.path.startsWith('renamed/sub/')).length, 30);
  assert.equal(
    c.nodes[1]!.node.reconcileStats.moved - movedBefore,
    32,
    'the folder, its subfolder and 30 files moved',
  );
  assert.equal(c.nodes[1]!.node.reconcileStats.written, 30, 'no file content written again');
  await c.stop();
});

test('a folder moved with changes of the moment inside: the rename, then what its listing shows', async () => {
  const c = await cluster();
  const u = c.user(0);
  u.mkdir('box/sub');
  for (let i = 0; i < 20; i++) u.writeFile(`box/f${i}`, `file ${i}`);
  u.writeFile('box/sub/deep', 'deep');
  await c.settle({ converge: true });
  // Written and moved in the same instant, with events only for the folder's two names (as
  // inotify reports a move): the contents below must still be found and sent.
  u.writeFile('box/f3', 'changed');
  u.writeFile('box/new.txt', 'new');
  u.writeFile('box/sub/fresh', 'fresh');
  u.mv('box', 'moved', { only: true });
  await c.settle({ converge: true });
  assertConverged(c);
  assert.deepEqual(
    paths(c, 1).filter((p) => p.startsWith('box')),
    [],
  );
  assert.equal(text(c, 1, 'moved/f3'), is('changed'));
  assert.equal(text(c, 1, 'moved/new.txt'), is('new'));
  assert.equal(text(c, 1, 'moved/sub/fresh'), is('fresh'));
  assert.equal(text(c, 1, 'moved/f19'), is('file 19'));
  await c.stop();
});

test('an edit in the middle of a large file travels as a block-list patch, and converges', async () => {
  const c = await cluster();
  const big = new Uint8Array(6 << 20);
  let x = 12345;
  for (let i = 0; i < big.length; i++) {
    x ^= x << 13; // xorshift32: deterministic filler that chunks like random data
    x ^= x >>> 17;
    x ^= x << 5;
    big[i] = x & 0xff;
  }
  // The new file's blocks go as runs: ~6 requests of up to 1 MiB, not one per block.
  const runs: number[] = [];
  c.net.tap = (from, _to, f) => {
    if (from === 1 && 'blockRequest' in f) runs.push(f.blockRequest.runLengths.length);
  };
  c.user(0).writeFile('big.bin', big);
  await c.settle({ converge: true });
  assert.ok(runs.length > 0 && runs.length <= 8, `block requests: ${runs.length}`);
  assert.ok(
    runs.every((n) => n > 1),
    `blocks per request: ${runs}`,
  );
  const patches: number[] = [];
  let opBytes = 0;
  c.net.tap = (from, _to, f) => {
    if (from !== 0 || !('ops' in f)) return;
    patches.push(f.ops.patches?.length ?? 0);
    for (const o of f.ops.ops) opBytes += o.length;
  };
  const edited = Uint8Array.from(big);
  edited.fill(7, 3 << 20, (3 << 20) + 100_000);
  c.user(0).writeFile('big.bin', edited);
  await c.settle({ converge: true });
  assertConverged(c);
  assert.equal(text(c, 1, 'big.bin'), createHash('sha256').update(edited).digest('hex'));
  assert.ok(patches.includes(1), `patches per batch: ${patches}`);
  // The whole list is ~3.8 KiB; a patched operation ~150 bytes (sent twice after a restatement).
  assert.ok(opBytes < 1000, `operations took ${opBytes} bytes`);
  await c.stop();
});
