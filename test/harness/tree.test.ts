import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { seededBytes, writeBytes, writeRandomFile, writeSymlink } from './files.ts';
import { cleanupAll, makeTempDir } from './tmp.ts';
import { diffTrees, snapshotTree, treesEqual } from './tree.ts';

after(cleanupAll);

async function sample(dir: string): Promise<void> {
  await writeBytes(dir, 'a.txt', 'hello', { mode: 0o644 });
  await writeBytes(dir, 'bin/run.sh', '#!/bin/sh\n', { mode: 0o755 });
  await writeRandomFile(dir, 'data/blob.bin', 70_001, 'blob', { mode: 0o600 });
  await writeSymlink(dir, 'dangling', 'does/not/exist');
  await writeSymlink(dir, 'to-data', 'data');
  await writeBytes(dir, '.resonate/state.db', 'internal');
  await writeBytes(dir, 'data/.resonate', 'a nested name is ignored too');
}

test('snapshotTree records type, size, hash, mode and link target without following links', async () => {
  const dir = await makeTempDir('tree-test');
  await sample(dir);
  const t = await snapshotTree(dir);
  assert.deepEqual(
    [...t.keys()],
    ['a.txt', 'bin', 'bin/run.sh', 'dangling', 'data', 'data/blob.bin', 'to-data'],
  );
  assert.deepEqual(t.get('a.txt'), {
    type: 'file',
    size: 5,
    mode: 0o644,
    sha256: createHash('sha256').update('hello').digest('hex'),
  });
  assert.equal(t.get('bin/run.sh')?.mode, 0o755);
  assert.equal(t.get('data/blob.bin')?.size, 70_001);
  assert.equal(t.get('data')?.type, 'dir');
  assert.deepEqual(t.get('dangling'), {
    type: 'link',
    size: 14,
    mode: t.get('dangling')!.mode,
    link: 'does/not/exist',
  });
  assert.equal(t.get('to-data')?.type, 'link');
  const all = await snapshotTree(dir, { ignore: [] });
  assert.ok(all.has('.resonate/state.db') && all.has('data/.resonate'));
  const noData = await snapshotTree(dir, { ignore: [/^data(\/|$)/] });
  assert.ok(!noData.has('data') && !noData.has('data/blob.bin') && noData.has('a.txt'));
});

test('diffTrees is empty for identical trees and names every difference', async () => {
  const a = await makeTempDir('tree-a');
  const b = await makeTempDir('tree-b');
  await sample(a);
  await sample(b);
  const [ta, tb] = [await snapshotTree(a), await snapshotTree(b)];
  assert.deepEqual(diffTrees(ta, tb), []);
  assert.ok(treesEqual(ta, tb));

  const blob = Buffer.from(await readFile(join(b, 'data/blob.bin')));
  blob[100] = (blob[100]! + 1) % 256;
  await writeBytes(b, 'data/blob.bin', blob, { mode: 0o600 });
  await writeBytes(b, 'a.txt', 'hello!', { mode: 0o644 });
  await writeBytes(b, 'bin/run.sh', '#!/bin/sh\n', { mode: 0o644 });
  await writeBytes(b, 'new.txt', 'n', { mode: 0o644 });
  await writeSymlink(b, 'to-a', 'a.txt');
  await rm(join(b, 'dangling'));
  await writeBytes(b, 'dangling', 'now a file', { mode: 0o644 });
  const tb2 = await snapshotTree(b);
  const short = (t: typeof ta, p: string) => t.get(p)!.sha256!.slice(0, 12);
  assert.deepEqual(diffTrees(ta, tb2, { names: ['node0', 'node1'] }), [
    'a.txt: size 5 != 6 (node0 vs node1)',
    'bin/run.sh: mode 755 != 644 (node0 vs node1)',
    `dangling: node0 has link -> does/not/exist, node1 has file 10 B sha256 ${short(tb2, 'dangling')} mode 644`,
    `data/blob.bin: content ${short(ta, 'data/blob.bin')} != ${short(tb2, 'data/blob.bin')} (node0 vs node1)`,
    `new.txt: only in node1 (file 1 B sha256 ${short(tb2, 'new.txt')} mode 644)`,
    'to-a: only in node1 (link -> a.txt)',
  ]);
  assert.deepEqual(diffTrees(tb2, ta).slice(-2), [
    `new.txt: only in a (file 1 B sha256 ${short(tb2, 'new.txt')} mode 644)`,
    'to-a: only in a (link -> a.txt)',
  ]);
  const noMode = diffTrees(ta, tb2, { modeMask: 0 });
  assert.ok(!noMode.some((l) => l.startsWith('bin/run.sh')));
});

test('seeded content is reproducible and streamed files match seededBytes', async () => {
  assert.ok(seededBytes(1000, 7).equals(seededBytes(1000, 7)));
  assert.ok(!seededBytes(1000, 7).equals(seededBytes(1000, 8)));
  assert.ok(seededBytes(1001, 'x').subarray(0, 1000).equals(seededBytes(1000, 'x')));
  const dir = await makeTempDir('tree-seed');
  const size = (1 << 20) * 2 + 3;
  const p = await writeRandomFile(dir, 'big.bin', size, 'big');
  assert.ok((await readFile(p)).equals(seededBytes(size, 'big')));
});

test('a few thousand files snapshot quickly', async () => {
  const dir = await makeTempDir('tree-many');
  const writes: Promise<string>[] = [];
  for (let i = 0; i < 3000; i++) writes.push(writeRandomFile(dir, `d${i % 30}/f${i}.bin`, 1000 + (i % 7), i));
  await Promise.all(writes);
  const start = Date.now();
  const t = await snapshotTree(dir);
  const ms = Date.now() - start;
  assert.equal(t.size, 3030);
  assert.ok(ms < 5000, `snapshot of 3000 files took ${ms} ms`);
});
