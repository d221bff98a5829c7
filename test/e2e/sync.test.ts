// Two real daemons keeping one folder in sync, live: the original single-dash seed
// scenario, every kind of change, big and executable files, symlinks, bursts from both
// sides, concurrent edits under a partition, delete-vs-modify, ping-pong edits counted in
// the log, pre-existing folders merged at first start, and editor-style atomic saves.
import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { startCluster } from '../harness/cluster.ts';
import { dumpOnFailure, startDaemon } from '../harness/daemon.ts';
import { overwriteInPlace, seededBytes, writeBytes } from '../harness/files.ts';
import { freePort } from '../harness/ports.ts';
import { makeTempDir } from '../harness/tmp.ts';
import { snapshotTree } from '../harness/tree.ts';
import { waitFor } from '../harness/wait.ts';
import {
  CONNECTED,
  CWD_ENTRY,
  conflictCopies,
  duplicateDots,
  LOG_LEVEL,
  only,
  type Pair,
  READY,
  readLog,
  SYNC_TIMEOUT,
  sha256,
  startPair,
  status,
  waitForContent,
  waitForTree,
  waitTreesEqual,
} from './lib/e2e.ts';

after(cleanupHarness);

// One pair of daemons for the tests that only need "a change on one side shows up on the
// other"; each works in its own subfolder and compares only that (a known failure in one
// test must not spill into the next). Tests that may misbehave get a pair of their own.
let pair: Pair;
before(async () => {
  pair = await startPair({ nodeIds: ['alpha', 'beta'] });
});

const both = () => [pair.dirA, pair.dirB];

test('seed scenario: -dir test1 -port P1 -peer localhost:P2 and vice versa, relative folders', () =>
  dumpOnFailure(async () => {
    const cwd = await makeTempDir('resonate-seed');
    const [p1, p2] = [await freePort(), await freePort()];
    const start = (name: string, argv: string[]) =>
      startDaemon({
        // dir/port are what the harness would pass; the entry runs argv from cwd instead.
        dir: join(cwd, name),
        port: name === 'test1' ? p1 : p2,
        name,
        entry: CWD_ENTRY,
        env: { E2E_CWD: cwd, E2E_ARGV: JSON.stringify(argv) },
      });
    const d1 = await start('test1', ['-dir', 'test1', '-port', String(p1), '-peer', `localhost:${p2}`]);
    const d2 = await start('test2', ['-dir', 'test2', '-port', String(p2), '-peer', `localhost:${p1}`]);
    const l1 = await d1.waitForLine(
      /^resonate \S+: folder (.+), listening on \S+, peers (\S+)$/,
      SYNC_TIMEOUT,
    );
    assert.equal(l1[1], join(cwd, 'test1'), 'the relative folder is resolved against the working directory');
    assert.equal(l1[2], `localhost:${p2}`);
    await Promise.all([d1.waitForLine(CONNECTED, SYNC_TIMEOUT), d2.waitForLine(CONNECTED, SYNC_TIMEOUT)]);
    await writeBytes(join(cwd, 'test1'), 'hello.txt', 'hello from test1\n');
    await waitForContent(join(cwd, 'test2'), 'hello.txt', 'hello from test1\n');
    await writeBytes(join(cwd, 'test2'), 'sub/reply.txt', 'reply from test2\n');
    await waitForContent(join(cwd, 'test1'), 'sub/reply.txt', 'reply from test2\n');
    await waitTreesEqual([join(cwd, 'test1'), join(cwd, 'test2')]);
    assert.deepEqual(await Promise.all([d1.stop(), d2.stop()]), [0, 0]);
    d1.unregister();
    d2.unregister();
  }));

test('create, modify, rename and delete a file, both directions', () =>
  dumpOnFailure(async () => {
    const { dirA: a, dirB: b } = pair;
    await writeBytes(a, 'basic/f.txt', 'one');
    await waitForContent(b, 'basic/f.txt', 'one');
    await writeFile(join(a, 'basic/f.txt'), 'two, longer');
    await waitForContent(b, 'basic/f.txt', 'two, longer');
    await writeBytes(b, 'basic/h.txt', 'made on B');
    await waitForContent(a, 'basic/h.txt', 'made on B');
    await writeFile(join(b, 'basic/h.txt'), 'changed on B');
    await waitForContent(a, 'basic/h.txt', 'changed on B');
    await rename(join(a, 'basic/f.txt'), join(a, 'basic/g.txt'));
    await waitForTree(b, (t) => t.has('basic/g.txt') && !t.has('basic/f.txt'), 'B sees the rename');
    assert.equal(await readFile(join(b, 'basic/g.txt'), 'utf8'), 'two, longer');
    await rename(join(b, 'basic/h.txt'), join(b, 'basic/i.txt'));
    await waitForTree(a, (t) => t.has('basic/i.txt') && !t.has('basic/h.txt'), 'A sees the rename');
    await rm(join(b, 'basic/g.txt'));
    await rm(join(a, 'basic/i.txt'));
    await waitForTree(
      a,
      (t) => t.has('basic') && t.size === 1,
      'A sees the deletes',
      SYNC_TIMEOUT,
      only('basic'),
    );
    await waitForTree(
      b,
      (t) => t.has('basic') && t.size === 1,
      'B sees the deletes',
      SYNC_TIMEOUT,
      only('basic'),
    );
  }));

test('create, rename and delete a directory with contents', () =>
  dumpOnFailure(async () => {
    const { dirA: a, dirB: b } = pair;
    await writeBytes(a, 'dirs/d/one.txt', '1');
    await writeBytes(a, 'dirs/d/sub/two.txt', '22');
    await waitTreesEqual(both(), only('dirs'));
    await rename(join(b, 'dirs/d'), join(b, 'dirs/e'));
    await waitForTree(
      a,
      (t) => t.has('dirs/e/sub/two.txt') && t.has('dirs/e/one.txt') && !t.has('dirs/d'),
      'A sees the directory rename',
    );
    await waitTreesEqual(both(), only('dirs'));
    await rm(join(a, 'dirs/e'), { recursive: true });
    await waitForTree(b, (t) => t.has('dirs') && !t.has('dirs/e'), 'B sees the directory delete');
    const t = await waitTreesEqual(both(), only('dirs'));
    assert.deepEqual([...t.keys()], ['dirs']);
  }));

test('nested folders, empty files and empty folders', () =>
  dumpOnFailure(async () => {
    const { dirA: a, dirB: b } = pair;
    await mkdir(join(a, 'nest/a/n1/n2/n3/n4'), { recursive: true });
    await writeFile(join(a, 'nest/a/n1/n2/n3/n4/empty.txt'), '');
    await writeFile(join(a, 'nest/a/n1/n2/deep.txt'), 'deep');
    await mkdir(join(a, 'nest/a/empty-dir'));
    await mkdir(join(b, 'nest/b/only/empty'), { recursive: true });
    await writeFile(join(b, 'nest/b/zero'), '');
    const t = await waitTreesEqual(both(), only('nest'));
    assert.equal(t.get('nest/a/n1/n2/n3/n4/empty.txt')?.type, 'file');
    assert.equal(t.get('nest/a/n1/n2/n3/n4/empty.txt')?.size, 0);
    assert.equal(t.get('nest/a/empty-dir')?.type, 'dir');
    assert.equal(t.get('nest/b/only/empty')?.type, 'dir');
    assert.equal(t.get('nest/b/zero')?.size, 0);
    assert.equal(t.get('nest/a/n1/n2/deep.txt')?.size, 4);
  }));

test('a 50 MiB binary file arrives intact (sha256)', () =>
  dumpOnFailure(async () => {
    const { dirA: a, dirB: b } = pair;
    const size = 50 * 1024 * 1024;
    const data = seededBytes(size, 'blob-50');
    await writeFile(join(a, 'big.bin'), data);
    // The file appears under its name only once complete (temp file + rename): wait for the
    // size, then hash once.
    const sizeOnB = async () => (await stat(join(b, 'big.bin')).catch(() => null))?.size;
    await waitFor(async () => (await sizeOnB()) === size, {
      timeoutMs: 120_000,
      intervalMs: 200,
      message: 'B has the 50 MiB file',
    });
    assert.equal(sha256(await readFile(join(b, 'big.bin'))), sha256(data));
    // A change in the middle travels too.
    data.write('changed in the middle', 25 * 1024 * 1024);
    const want = sha256(data);
    await writeFile(join(a, 'big.bin'), data);
    await waitFor(async () => sha256(await readFile(join(b, 'big.bin'))) === want, {
      timeoutMs: 120_000,
      intervalMs: 500,
      message: 'B has the edited 50 MiB file',
    });
    await rm(join(a, 'big.bin'));
    await waitFor(async () => (await sizeOnB()) === undefined, {
      timeoutMs: SYNC_TIMEOUT,
      message: 'B drops it',
    });
  }));

test('edits of a large file on either side are re-hashed from its last reading, and travel intact', () =>
  dumpOnFailure(async () => {
    // A pair of its own at debug level: the "re-hashed" lines say the fast path was taken.
    const p = await startPair({ logLevel: 'debug' });
    try {
      let data = seededBytes(20 * 1024 * 1024, 'rehash-20');
      const file = (dir: string) => join(dir, 'big.bin');
      const arrives = async (dir: string, what: string) => {
        const want = sha256(data);
        await waitFor(async () => sha256(await readFile(file(dir)).catch(() => Buffer.alloc(0))) === want, {
          timeoutMs: 120_000,
          intervalMs: 200,
          message: what,
        });
      };
      await writeFile(file(p.dirA), data);
      await arrives(p.dirB, 'B has the file');
      // On B, which only wrote it: the first local change takes prints, the second (a byte
      // inserted at the front, rewritten in place) is re-hashed from them.
      data = Buffer.from(data);
      data.write('first change on B', 10 * 1024 * 1024);
      // In one write each: a reading of a file cut short mid-write would leave prints of only
      // its front, and the next re-hash would rightly find less (timing, not the code).
      await overwriteInPlace(file(p.dirB), data);
      await arrives(p.dirA, "A has B's first change");
      data = Buffer.concat([Buffer.from('!'), data]);
      const mark = p.b.mark();
      await overwriteInPlace(file(p.dirB), data);
      await arrives(p.dirA, "A has B's insertion");
      // Found again: all but the blocks around the edit and those the full hash before had
      // no print for (one per MiB read at most).
      const line = await p.b.waitForLine(/re-hashed.*big\.bin.*reused=(\d+)/, SYNC_TIMEOUT, { since: mark });
      assert.ok(Number(line[1]) >= 16 * 1024 * 1024, `B re-hashed: ${line[0]}`);
      // And back on A: its first and second changes of it since it was received.
      for (const [at, text] of [
        [3, 'A one'],
        [15, 'A two'],
      ] as const) {
        data = Buffer.from(data);
        data.write(text, at * 1024 * 1024);
        await overwriteInPlace(file(p.dirA), data);
        await arrives(p.dirB, `B has ${text}`);
      }
      await p.a.waitForLine(/re-hashed.*big\.bin/, SYNC_TIMEOUT);
      await waitTreesEqual([p.dirA, p.dirB]);
    } finally {
      await Promise.all([p.a.stop(), p.b.stop()]);
    }
  }));

test('the executable bit of a new file travels', () =>
  dumpOnFailure(async () => {
    const { dirA: a, dirB: b } = pair;
    await writeBytes(a, 'exec/run.sh', '#!/bin/sh\necho hi\n', { mode: 0o755 });
    await writeBytes(a, 'exec/plain.txt', 'text', { mode: 0o644 });
    await writeBytes(b, 'exec/from-b.sh', '#!/bin/sh\n', { mode: 0o700 });
    const t = await waitTreesEqual(both(), only('exec'));
    assert.equal(t.get('exec/run.sh')!.mode & 0o111, 0o111, 'run.sh executable');
    assert.equal(t.get('exec/plain.txt')!.mode & 0o111, 0, 'plain.txt not executable');
    assert.equal(t.get('exec/from-b.sh')!.mode & 0o100, 0o100, 'from-b.sh executable by its owner');
  }));

/** chmod on both sides of files both daemons have already read (hashed). */
async function chmodBothWays(a: string, b: string, dir: string, timeoutMs: number): Promise<void> {
  await writeBytes(a, `${dir}/run.sh`, '#!/bin/sh\necho hi\n', { mode: 0o644 });
  await writeBytes(a, `${dir}/plain.txt`, 'text', { mode: 0o755 });
  await waitTreesEqual([a, b], only(dir));
  // The user looks at the files (as the daemons do when they hash them), then chmods: only
  // the mode and the ctime change.
  for (const f of ['run.sh', 'plain.txt']) await readFile(join(b, dir, f));
  await chmod(join(b, dir, 'run.sh'), 0o755);
  await chmod(join(b, dir, 'plain.txt'), 0o644);
  const modes = async (root: string) => {
    const t = await snapshotTree(root, only(dir));
    return [t.get(`${dir}/run.sh`)?.mode, t.get(`${dir}/plain.txt`)?.mode];
  };
  await waitFor(async () => (await modes(a)).join() === [0o755, 0o644].join(), {
    timeoutMs,
    message: 'A sees both chmods made on B',
    describe: async () => (await modes(a)).map((m) => m?.toString(8)),
  });
  await readFile(join(a, dir, 'run.sh'));
  await chmod(join(a, dir, 'run.sh'), 0o644);
  await waitFor(async () => (await modes(b))[0] === 0o644, {
    timeoutMs,
    message: 'B sees the chmod made on A',
  });
}

test('chmod of an existing file travels both ways', () =>
  dumpOnFailure(() => chmodBothWays(pair.dirA, pair.dirB, 'chmod', SYNC_TIMEOUT)));

test('chmod travels with the chokidar watcher too (--watcher chokidar)', () =>
  dumpOnFailure(async () => {
    const p = await startPair({ nodeIds: ['cka', 'ckb'], args: ['--watcher', 'chokidar'] });
    try {
      // Warm both links first (a start-up stall is another test's business).
      await writeBytes(p.dirA, 'warm-a', 'a');
      await writeBytes(p.dirB, 'warm-b', 'b');
      await waitTreesEqual([p.dirA, p.dirB]);
      await chmodBothWays(p.dirA, p.dirB, 'chmod', 15_000);
    } finally {
      await Promise.all([p.a.stop(), p.b.stop()]);
    }
  }));

// Symlinks get a pair of their own: a failure there must not disturb the other tests.
let linkPair: Pair | undefined;

test('symlinks are kept as links and never followed', () =>
  dumpOnFailure(async () => {
    linkPair = await startPair({ nodeIds: ['la', 'lb'] });
    const { dirA: a, dirB: b } = linkPair;
    const outside = await makeTempDir('resonate-outside');
    await writeBytes(outside, 'secret.txt', 'must not be copied');
    await writeBytes(a, 'links/target.txt', 'inside');
    await symlink('target.txt', join(a, 'links/rel'));
    await symlink(outside, join(a, 'links/out-dir'));
    await symlink(join(outside, 'secret.txt'), join(a, 'links/out-file'));
    await symlink('does/not/exist', join(a, 'links/dangling'));
    await symlink('../links/target.txt', join(b, 'from-b'));
    const t = await waitTreesEqual([a, b]);
    for (const n of ['links/rel', 'links/out-dir', 'links/out-file', 'links/dangling', 'from-b'])
      assert.equal(t.get(n)?.type, 'link', `${n} is a link`);
    assert.equal(t.get('links/rel')!.link, 'target.txt');
    assert.equal(t.get('links/out-dir')!.link, outside);
    assert.equal(t.get('links/out-file')!.link, join(outside, 'secret.txt'));
    assert.equal(t.get('links/dangling')!.link, 'does/not/exist');
    assert.equal(t.get('from-b')!.link, '../links/target.txt');
    for (const p of t.keys()) assert.ok(!p.startsWith('links/out-dir/'), `followed the link: ${p}`);
    // Nothing was written through a link: the outside folder is untouched.
    assert.deepEqual([...(await snapshotTree(outside)).keys()], ['secret.txt']);
  }));

test('retargeting a symlink syncs (no conflict copies, no runaway operations)', () =>
  dumpOnFailure(async () => {
    if (!linkPair) throw new Error('the previous test did not start the pair');
    const { dirA: a, dirB: b } = linkPair;
    try {
      await rm(join(b, 'links/rel'));
      await symlink('elsewhere.txt', join(b, 'links/rel'));
      await waitFor(async () => (await snapshotTree(a)).get('links/rel')?.link === 'elsewhere.txt', {
        timeoutMs: 15_000,
        message: 'A sees the retargeted link',
      });
      const t = await waitTreesEqual([a, b], { timeoutMs: 30_000 });
      assert.deepEqual(conflictCopies(t, 'links/rel'), [], 'no conflict copies');
      assert.equal(t.get('links/rel')?.link, 'elsewhere.txt', 'the edit survives');
    } finally {
      await Promise.all([linkPair.a.stop(), linkPair.b.stop()]);
    }
    const ops = await readLog(a, { path: 'links/rel' });
    assert.deepEqual(
      ops.map((o) => `${o.node} ${o.kind} ${o.link}`),
      ['la symlink target.txt', 'lb symlink elsewhere.txt'],
      'two operations for links/rel',
    );
  }));

test('a burst of 1,000 files from both sides at once converges', () =>
  dumpOnFailure(async () => {
    const { dirA: a, dirB: b } = pair;
    const N = 500; // per side
    const burst = async (dir: string, side: string) => {
      for (let g = 0; g < 10; g++) await mkdir(join(dir, `burst/${side}/g${g}`), { recursive: true });
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < N; i++) {
        jobs.push(
          writeFile(join(dir, `burst/${side}/g${i % 10}/f${i}.dat`), seededBytes(100 + i * 7, `${side}${i}`)),
        );
        if (jobs.length >= 32) await Promise.all(jobs.splice(0));
      }
      await Promise.all(jobs);
    };
    await Promise.all([burst(a, 'a'), burst(b, 'b')]);
    const t = await waitTreesEqual(both(), { ...only('burst'), timeoutMs: 120_000 });
    const files = [...t.keys()].filter((p) => p.startsWith('burst/') && t.get(p)!.type === 'file');
    assert.equal(files.length, 2 * N);
    const one = t.get('burst/b/g3/f123.dat');
    assert.equal(one?.sha256, sha256(seededBytes(100 + 123 * 7, 'b123')));
  }));

test('an editor save (temp file renamed over the file) syncs; the temp name never shows up', () =>
  dumpOnFailure(async () => {
    const { dirA: a, dirB: b } = pair;
    await mkdir(join(a, 'editor'), { recursive: true });
    await writeFile(join(a, 'editor/doc.txt'), 'version 1\n');
    await waitForContent(b, 'editor/doc.txt', 'version 1\n');
    const seen = new Set<string>();
    const watcher = watch(join(b, 'editor'), (_event, name) => {
      if (name) seen.add(String(name));
    });
    try {
      for (let v = 2; v <= 4; v++) {
        const tmp = join(a, 'editor', `.doc.txt.swp-${v}`);
        await writeFile(tmp, `version ${v}\n`);
        await rename(tmp, join(a, 'editor/doc.txt'));
        await waitForContent(b, 'editor/doc.txt', `version ${v}\n`);
      }
    } finally {
      watcher.close();
    }
    const leaked = [...seen].filter((n) => n.includes('.swp'));
    assert.deepEqual(leaked, [], 'temp names seen on B');
    const t = await waitTreesEqual(both(), only('editor'));
    assert.deepEqual(
      [...t.keys()].filter((p) => p.startsWith('editor')),
      ['editor', 'editor/doc.txt'],
    );
  }));

test('the shared pair: no duplicate operations, no temp names, same log on both', () =>
  dumpOnFailure(async () => {
    // (chmod/ has its own test, which may be a known failure.)
    await waitTreesEqual(both(), { ignore: ['.resonate', 'chmod'] });
    assert.deepEqual(await Promise.all([pair.a.stop(), pair.b.stop()]), [0, 0]);
    const [la, lb] = await Promise.all([readLog(pair.dirA), readLog(pair.dirB)]);
    assert.deepEqual(duplicateDots(la), []);
    assert.deepEqual(duplicateDots(lb), []);
    assert.equal(la.length, lb.length, 'both logs hold the same operations');
    const key = (o: { origin: string; seq: number }) => `${o.origin}#${o.seq}`;
    assert.deepEqual(new Set(la.map(key)), new Set(lb.map(key)));
    const temps = la.filter((o) => /\.swp|resonate-tmp/.test(`${o.path} ${o.to ?? ''}`));
    assert.deepEqual(temps, [], 'no operation names a temp file');
  }));

test('a concurrent edit during a partition keeps both versions (one as a conflict copy)', () =>
  dumpOnFailure(async () => {
    const c = await startCluster({
      n: 2,
      proxied: true,
      ready: READY,
      nodeId: (i) => ['na', 'nb'][i]!,
      ...(LOG_LEVEL ? { logLevel: LOG_LEVEL } : {}),
    });
    const [n0, n1] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    await Promise.all(c.nodes.map((n) => n.daemon.waitForLine(CONNECTED, SYNC_TIMEOUT)));
    await writeBytes(n0.dir, 'conc/c.txt', 'base\n');
    await writeBytes(n0.dir, 'conc/d.txt', 'base of d\n');
    await waitForContent(n1.dir, 'conc/c.txt', 'base\n');
    await waitForContent(n1.dir, 'conc/d.txt', 'base of d\n');
    await c.waitConverged({ timeoutMs: SYNC_TIMEOUT });
    const before = await Promise.all(c.nodes.map((n) => status(n.port)));
    c.partition([[0], [1]]);
    await waitFor(
      async () =>
        (await Promise.all(c.nodes.map((n) => status(n.port)))).every(
          (s) => !s.members.some((m) => !m.self && m.connected),
        ),
      {
        timeoutMs: SYNC_TIMEOUT,
        intervalMs: 200,
        message: 'both nodes see the link down',
      },
    );
    // Same file edited on both sides; d.txt deleted on one side and edited on the other.
    await writeFile(join(n0.dir, 'conc/c.txt'), 'edited on na\n');
    await writeFile(join(n1.dir, 'conc/c.txt'), 'edited on nb, differently\n');
    await rm(join(n0.dir, 'conc/d.txt'));
    await writeFile(join(n1.dir, 'conc/d.txt'), 'd modified on nb\n');
    // Each side records its own changes before the link comes back.
    await waitFor(
      async () => {
        const now = await Promise.all(c.nodes.map((n) => status(n.port)));
        return now.every((s, i) => s.ops.local >= before[i]!.ops.local + 2);
      },
      { timeoutMs: SYNC_TIMEOUT, intervalMs: 200, message: 'both sides recorded their edits' },
    );
    c.heal();
    const t = await c.waitConverged({ timeoutMs: SYNC_TIMEOUT });
    const copies = conflictCopies(t, 'conc/c.txt');
    assert.equal(copies.length, 1, `one conflict copy of c.txt, got ${[...t.keys()].join(', ')}`);
    assert.match(copies[0]!, /^conc\/c\.conflict-(na|nb)-\d{8}-\d{6}\.txt$/);
    const texts = await Promise.all(['conc/c.txt', copies[0]!].map((p) => readFile(join(n0.dir, p), 'utf8')));
    assert.deepEqual(texts.sort(), ['edited on na\n', 'edited on nb, differently\n']);
    // The copy is named after the node whose version lost (the one it holds).
    const copyText = await readFile(join(n0.dir, copies[0]!), 'utf8');
    assert.ok(
      copies[0]!.includes(copyText === 'edited on na\n' ? '.conflict-na-' : '.conflict-nb-'),
      `${copies[0]} holds ${JSON.stringify(copyText)}`,
    );
    // Delete vs modify: the modification survives, with no conflict copy.
    assert.equal(await readFile(join(n0.dir, 'conc/d.txt'), 'utf8'), 'd modified on nb\n');
    assert.deepEqual(conflictCopies(t, 'conc/d.txt'), []);
    assert.deepEqual(await c.stop(), [0, 0]);
  }));

test('100 ping-pong edits make exactly 100 operations in the log', () =>
  dumpOnFailure(async () => {
    const p = await startPair({ nodeIds: ['ping', 'pong'] });
    try {
      for (let i = 1; i <= 100; i++) {
        const [from, to] = i % 2 === 1 ? [p.dirA, p.dirB] : [p.dirB, p.dirA];
        const text = `edit ${i} from ${i % 2 === 1 ? 'ping' : 'pong'}\n`;
        await writeFile(join(from, 'pp.txt'), text);
        // Normally ~100 ms; the first one may wait for the peer's welcome.
        await waitForContent(to, 'pp.txt', text, i === 1 ? 30_000 : 15_000);
      }
      await waitTreesEqual([p.dirA, p.dirB]);
    } finally {
      assert.deepEqual(await Promise.all([p.a.stop(), p.b.stop()]), [0, 0]);
    }
    for (const dir of [p.dirA, p.dirB]) {
      const ops = await readLog(dir);
      assert.equal(
        ops.length,
        100,
        `exactly 100 operations in ${dir}:\n${ops.map((o) => `${o.node}#${o.seq} ${o.kind} ${o.path}`).join('\n')}`,
      );
      assert.ok(ops.every((o) => o.kind === 'put' && o.path === 'pp.txt'));
      assert.equal(ops.filter((o) => o.node === 'ping').length, 50);
      assert.equal(ops.filter((o) => o.node === 'pong').length, 50);
      assert.deepEqual(duplicateDots(ops), []);
      assert.equal((await readLog(dir, { path: 'pp.txt' })).length, 100);
    }
  }));

test('a change made right after both daemons start reaches the peer promptly', () =>
  dumpOnFailure(async () => {
    // The failure is a race at start-up: try a few fresh pairs.
    for (let run = 0; run < 3; run++) {
      const p = await startPair({ nodeIds: [`early-a${run}`, `early-b${run}`] });
      try {
        await writeBytes(p.dirA, 'early-a.txt', 'a');
        await writeBytes(p.dirB, 'early-b.txt', 'b');
        // Loopback and tiny files: well under a second; 10 s is the anti-entropy rescue.
        await waitForContent(p.dirB, 'early-a.txt', 'a', 5000);
        await waitForContent(p.dirA, 'early-b.txt', 'b', 5000);
      } finally {
        await Promise.all([p.a.stop(), p.b.stop()]);
        p.a.unregister();
        p.b.unregister();
      }
    }
  }));

test('pre-existing different files in both folders are merged at first start, never deleted', () =>
  dumpOnFailure(async () => {
    const dirA = await makeTempDir('resonate-pre-a');
    const dirB = await makeTempDir('resonate-pre-b');
    await writeBytes(dirA, 'only-a.txt', 'a');
    await writeBytes(dirA, 'shared/from-a/x.bin', seededBytes(5000, 'xa'));
    await writeBytes(dirA, 'same.txt', 'identical\n');
    await writeBytes(dirA, 'diff.txt', 'A version\n');
    await mkdir(join(dirA, 'empty-a'));
    await writeBytes(dirB, 'only-b.txt', 'b');
    await writeBytes(dirB, 'shared/from-b/y.bin', seededBytes(7000, 'yb'));
    await writeBytes(dirB, 'same.txt', 'identical\n');
    await writeBytes(dirB, 'diff.txt', 'B version\n');
    const p = await startPair({ dirA, dirB, nodeIds: ['pre-a', 'pre-b'] });
    const t = await waitTreesEqual([dirA, dirB]);
    for (const path of [
      'only-a.txt',
      'only-b.txt',
      'shared/from-a/x.bin',
      'shared/from-b/y.bin',
      'same.txt',
      'diff.txt',
      'empty-a',
    ])
      assert.ok(t.has(path), `${path} is kept`);
    assert.deepEqual(conflictCopies(t, 'same.txt'), [], 'identical files are not a conflict');
    const copies = conflictCopies(t, 'diff.txt');
    assert.equal(copies.length, 1, `one conflict copy of diff.txt: ${[...t.keys()].join(', ')}`);
    const texts = await Promise.all(['diff.txt', copies[0]!].map((x) => readFile(join(dirA, x), 'utf8')));
    assert.deepEqual(texts.sort(), ['A version\n', 'B version\n']);
    assert.deepEqual(await Promise.all([p.a.stop(), p.b.stop()]), [0, 0]);
  }));
