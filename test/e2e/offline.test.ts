// Nodes that are not running: edits made while a peer (or both) were stopped, a node
// killed with SIGKILL in the middle of a burst, and the safety net for a folder that
// vanishes (an unmounted disk): the node stops sending deletions, the peer keeps its files.
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { type Daemon, dumpOnFailure, startDaemon } from '../harness/daemon.ts';
import { seededBytes, writeBytes } from '../harness/files.ts';
import { freePort } from '../harness/ports.ts';
import { makeTempDir } from '../harness/tmp.ts';
import { snapshotTree } from '../harness/tree.ts';
import { waitFor } from '../harness/wait.ts';
import {
  CONNECTED,
  conflictCopies,
  LOG_LEVEL,
  READY,
  SYNC_TIMEOUT,
  sha256,
  startPair,
  waitForContent,
  waitTreesEqual,
} from './lib/e2e.ts';

after(cleanupHarness);

/** Restart a stopped (or killed) daemon and wait for its scan and its peer link. */
async function bringUp(d: Daemon): Promise<void> {
  const mark = d.mark();
  await d.restart();
  await d.waitForLine(READY, SYNC_TIMEOUT, { since: mark });
  await d.waitForLine(CONNECTED, SYNC_TIMEOUT, { since: mark });
}

test('edits made while the peer is stopped sync after it restarts', () =>
  dumpOnFailure(async () => {
    const p = await startPair({ nodeIds: ['on', 'off'] });
    const { dirA: a, dirB: b } = p;
    await writeBytes(a, 'keep/mod.txt', 'original\n');
    await writeBytes(a, 'keep/del.txt', 'to be deleted\n');
    await writeBytes(a, 'keep/ren.txt', 'to be renamed\n');
    await writeBytes(b, 'keep/from-b.txt', 'made on B\n');
    await waitTreesEqual([a, b]);
    assert.equal(await p.b.stop(), 0);
    // While B is down: changes on A.
    await writeBytes(a, 'while-down/new.txt', 'new while B was down\n');
    await mkdir(join(a, 'while-down/empty'), { recursive: true });
    await writeFile(join(a, 'keep/mod.txt'), 'modified while B was down\n');
    await rm(join(a, 'keep/del.txt'));
    await rename(join(a, 'keep/ren.txt'), join(a, 'keep/renamed.txt'));
    await bringUp(p.b);
    const t = await waitTreesEqual([a, b]);
    assert.deepEqual(
      [...t.keys()],
      [
        'keep',
        'keep/from-b.txt',
        'keep/mod.txt',
        'keep/renamed.txt',
        'while-down',
        'while-down/empty',
        'while-down/new.txt',
      ],
    );
    assert.equal(await readFile(join(b, 'keep/mod.txt'), 'utf8'), 'modified while B was down\n');
    assert.equal(await readFile(join(b, 'keep/renamed.txt'), 'utf8'), 'to be renamed\n');
    assert.deepEqual(await Promise.all([p.a.stop(), p.b.stop()]), [0, 0]);
  }));

test('edits on both sides while both daemons are stopped sync at the next start, by the same rules', () =>
  dumpOnFailure(async () => {
    const p = await startPair({ nodeIds: ['left', 'right'] });
    const { dirA: a, dirB: b } = p;
    for (const f of ['same.txt', 'del-left.txt', 'del-right.txt', 'untouched.txt'])
      await writeBytes(a, `both/${f}`, `base of ${f}\n`);
    await waitTreesEqual([a, b]);
    assert.deepEqual(await Promise.all([p.a.stop(), p.b.stop()]), [0, 0]);

    // Both down. Concurrent edits of one file; a delete on one side and an edit on the other
    // (both ways round); new files on each side.
    await writeFile(join(a, 'both/same.txt'), 'left version\n');
    await writeFile(join(b, 'both/same.txt'), 'right version, longer\n');
    await rm(join(a, 'both/del-left.txt'));
    await writeFile(join(b, 'both/del-left.txt'), 'edited on the right\n');
    await writeFile(join(a, 'both/del-right.txt'), 'edited on the left\n');
    await rm(join(b, 'both/del-right.txt'));
    await writeBytes(a, 'both/new-left.txt', 'new on the left\n');
    await writeBytes(b, 'both/new-right/x.txt', 'new on the right\n');

    await Promise.all([p.a.restart(), p.b.restart()]);
    await Promise.all([p.a.waitForLine(READY, SYNC_TIMEOUT), p.b.waitForLine(READY, SYNC_TIMEOUT)]);
    const t = await waitTreesEqual([a, b]);
    const copies = conflictCopies(t, 'both/same.txt');
    assert.equal(copies.length, 1, `one conflict copy: ${[...t.keys()].join(', ')}`);
    assert.match(copies[0]!, /^both\/same\.conflict-(left|right)-\d{8}-\d{6}\.txt$/);
    const texts = await Promise.all(['both/same.txt', copies[0]!].map((f) => readFile(join(a, f), 'utf8')));
    assert.deepEqual(texts.sort(), ['left version\n', 'right version, longer\n']);
    // The edits survive the deletes, without conflict copies.
    assert.equal(await readFile(join(a, 'both/del-left.txt'), 'utf8'), 'edited on the right\n');
    assert.equal(await readFile(join(b, 'both/del-right.txt'), 'utf8'), 'edited on the left\n');
    assert.deepEqual(conflictCopies(t, 'both/del-left.txt'), []);
    assert.deepEqual(conflictCopies(t, 'both/del-right.txt'), []);
    for (const f of ['both/new-left.txt', 'both/new-right/x.txt', 'both/untouched.txt'])
      assert.ok(t.has(f), f);
    assert.equal(t.size, 9, [...t.keys()].join(', '));
    assert.deepEqual(await Promise.all([p.a.stop(), p.b.stop()]), [0, 0]);
  }));

test('a node killed with SIGKILL mid-burst restarts and converges with no loss', () =>
  dumpOnFailure(async () => {
    const p = await startPair({ nodeIds: ['writer', 'reader'] });
    const { dirA: a, dirB: b } = p;
    const N = 600;
    const rel = (i: number) => `burst/g${i % 12}/f${i}.bin`;
    const data = (i: number) => seededBytes(1000 + ((i * 37) % 9000), `kill-${i}`);
    for (let g = 0; g < 12; g++) await mkdir(join(a, `burst/g${g}`), { recursive: true });
    // The writer dies a third of the way in; the user keeps writing.
    for (let i = 0; i < N; i++) {
      await writeFile(join(a, rel(i)), data(i));
      if (i === N / 3) await p.a.kill9();
    }
    await bringUp(p.a);
    // The reader dies while files are still arriving.
    const arrived = async () => (await snapshotTree(b, { ignore: ['.resonate'] })).size;
    await waitFor(async () => (await arrived()) > N / 2, {
      timeoutMs: SYNC_TIMEOUT,
      intervalMs: 50,
      message: 'the reader is half-way',
    });
    await p.b.kill9();
    await bringUp(p.b);
    const t = await waitTreesEqual([a, b], { timeoutMs: 120_000 });
    for (let i = 0; i < N; i++) assert.equal(t.get(rel(i))?.sha256, sha256(data(i)), rel(i));
    assert.equal(t.size, N + 13, 'nothing else: no conflict copies, no leftovers');
    assert.deepEqual(await Promise.all([p.a.stop(), p.b.stop()]), [0, 0]);
  }));

test('the folder emptied under a running daemon (marker first): no deletions are sent, the peer keeps its files', () =>
  dumpOnFailure(async () => {
    const p = await startPair({ nodeIds: ['mounted', 'peer'] });
    const { dirA: a, dirB: b } = p;
    try {
      for (let i = 0; i < 20; i++) await writeBytes(a, `data/f${i}.txt`, `file ${i}\n`);
      await writeBytes(a, 'top.txt', 'top\n');
      const before = await waitTreesEqual([a, b]);
      const mark = p.a.mark();
      // What an unmount looks like from inside: our marker goes, then everything else.
      await rm(join(a, '.resonate', 'folder'));
      await rm(join(a, 'data'), { recursive: true });
      await rm(join(a, 'top.txt'));
      await p.a.waitForLine(/not sending deletions/, SYNC_TIMEOUT, { since: mark });
      // Life goes on in the (now empty) folder and on the peer: later changes flow both
      // ways, so any deletion would have gone out by the time they arrive.
      for (let i = 0; i < 40; i++) await writeBytes(a, `later-${i}.txt`, `written later ${i}\n`);
      await writeBytes(b, 'after-b.txt', 'from the peer\n');
      await waitForContent(a, 'after-b.txt', 'from the peer\n');
      await writeBytes(a, 'after-a.txt', 'from the emptied node\n');
      await waitForContent(b, 'after-a.txt', 'from the emptied node\n');
      await waitForContent(b, 'later-39.txt', 'written later 39\n');
      const tb = await snapshotTree(b);
      const lost = [...before.keys()].filter((path) => !tb.has(path));
      assert.deepEqual(lost, [], 'files the peer lost');
      for (let i = 0; i < 20; i++)
        assert.equal(await readFile(join(b, `data/f${i}.txt`), 'utf8'), `file ${i}\n`);
    } finally {
      await Promise.all([p.a.stop(), p.b.stop()]);
    }
  }));

test('a folder replaced by an empty one (unmounted disk) and a restart: no deletions are sent', () =>
  dumpOnFailure(async () => {
    // The state lives outside the folder, as it would with the folder on a removable disk.
    const [portA, portB] = [await freePort(), await freePort()];
    const a = await makeTempDir('resonate-mnt');
    const b = await makeTempDir('resonate-peer');
    const stateA = await makeTempDir('resonate-mnt-state');
    const level = LOG_LEVEL ? { logLevel: LOG_LEVEL } : {};
    const da = await startDaemon({
      ...level,
      dir: a,
      port: portA,
      stateDir: stateA,
      peers: [`127.0.0.1:${portB}`],
      nodeId: 'disk',
      name: 'disk',
    });
    const db = await startDaemon({
      ...level,
      dir: b,
      port: portB,
      peers: [`127.0.0.1:${portA}`],
      nodeId: 'other',
      name: 'other',
    });
    await Promise.all([da.waitForLine(CONNECTED, SYNC_TIMEOUT), db.waitForLine(CONNECTED, SYNC_TIMEOUT)]);
    for (let i = 0; i < 20; i++) await writeBytes(a, `photos/p${i}.jpg`, seededBytes(2000, `p${i}`));
    const before = await waitTreesEqual([a, b]);
    assert.equal(await da.stop(), 0);
    // The disk is gone: an empty folder where it was mounted.
    await rename(a, `${a}-unplugged`);
    await mkdir(a);
    const mark = da.mark();
    await da.restart();
    await da.waitForLine(/folder marker missing.*not sending deletions/, SYNC_TIMEOUT, { since: mark });
    await da.waitForLine(READY, SYNC_TIMEOUT, { since: mark });
    await da.waitForLine(CONNECTED, SYNC_TIMEOUT, { since: mark });
    // Changes still flow both ways; none of them is a deletion of the missing files.
    await writeBytes(b, 'from-peer.txt', 'hello\n');
    await waitForContent(a, 'from-peer.txt', 'hello\n');
    await writeBytes(a, 'from-node.txt', 'hi\n');
    await waitForContent(b, 'from-node.txt', 'hi\n');
    const tb = await snapshotTree(b);
    assert.deepEqual(
      [...before.keys()].filter((path) => !tb.has(path)),
      [],
      'files the peer lost',
    );
    assert.deepEqual(await Promise.all([da.stop(), db.stop()]), [0, 0]);
    await rm(`${a}-unplugged`, { recursive: true, force: true });
  }));
