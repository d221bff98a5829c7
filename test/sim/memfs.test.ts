// MemFs: the shared FileSystem contract, plus what the simulator relies on: events through
// the scheduler, the simulated user, crash copies, snapshots, determinism.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TEMP_PREFIX } from '../../src/fs/paths.ts';
import { removeStaleTemps } from '../../src/fs/stale-temps.ts';
import type { WatchEvent } from '../../src/fs/watcher/types.ts';
import { put, readAll, runContract } from '../fs/contract.ts';
import { confineCases } from '../fs/contract-confine.ts';
import { fileCases } from '../fs/contract-files.ts';
import { treeCases } from '../fs/contract-tree.ts';
import { snapshotFs } from './memfs-snapshot.ts';
import { makeMemFs, memSubject } from './memfs-subject.ts';

runContract('MemFs contract', memSubject, [...fileCases, ...treeCases, ...confineCases]);

function recorder() {
  const setup = makeMemFs();
  const seen: WatchEvent[][] = [];
  setup.fs.onEvents = (batch) => seen.push(batch);
  return { ...setup, seen };
}

test('events arrive through the scheduler, batched, from both the node and the user', async () => {
  const { fs, scheduler, seen } = recorder();
  await fs.mkdir('d');
  await put(fs, 'd/f', 'x');
  fs.user.writeFile('d/u', 'by hand');
  assert.equal(seen.length, 0, 'nothing is delivered synchronously');
  assert.equal(scheduler.pending, 1);
  scheduler.runAll();
  assert.deepEqual(seen, [
    [
      { path: 'd', kind: 'addDir' },
      { path: 'd/f', kind: 'add' },
      { path: 'd/u', kind: 'add' },
    ],
  ]);
});

test('events cover every kind of change; own names are never reported', async () => {
  const { fs, scheduler, seen } = recorder();
  await fs.mkdir('a/b');
  await put(fs, 'a/b/f', '1');
  const before = await fs.lstat('a/b/f');
  const t = await fs.createTemp('a/b/f');
  await t.write(Buffer.from('2'), 0);
  await t.commit('a/b/f', { mode: 0o644, mtimeMs: 5, expect: before });
  await fs.chmod('a/b/f', 0o600);
  await fs.rename('a', 'z');
  fs.user.appendFile('z/b/f', '3');
  fs.user.rmdir('z');
  scheduler.runAll();
  const events = seen.flat();
  assert.ok(events.every((e) => !e.path.includes(TEMP_PREFIX)));
  assert.deepEqual(events, [
    { path: 'a', kind: 'addDir' },
    { path: 'a/b', kind: 'addDir' },
    { path: 'a/b/f', kind: 'add' },
    { path: 'a/b/f', kind: 'change' },
    { path: 'a/b/f', kind: 'change' },
    { path: 'a/b/f', kind: 'unlink' },
    { path: 'a/b', kind: 'unlinkDir' },
    { path: 'a', kind: 'unlinkDir' },
    { path: 'z', kind: 'addDir' },
    { path: 'z/b', kind: 'addDir' },
    { path: 'z/b/f', kind: 'add' },
    { path: 'z/b/f', kind: 'change' },
    { path: 'z/b/f', kind: 'unlink' },
    { path: 'z/b', kind: 'unlinkDir' },
    { path: 'z', kind: 'unlinkDir' },
  ]);
});

test('the user edits in place (same inode) and mv keeps inodes of a whole subtree', async () => {
  const { fs } = makeMemFs();
  fs.user.mkdir('p/q');
  fs.user.writeFile('p/q/f', 'one');
  const ino = (await fs.lstat('p/q/f'))?.ino;
  fs.user.writeFile('p/q/f', 'two!');
  fs.user.appendFile('p/q/f', '+');
  assert.equal((await fs.lstat('p/q/f'))?.ino, ino);
  assert.equal(await readAll(fs, 'p/q/f'), 'two!+');
  fs.user.mv('p', 'r');
  assert.equal((await fs.lstat('r/q/f'))?.ino, ino);
  fs.user.chmod('r/q/f', 0o600);
  fs.user.setMtime('r/q/f', 77);
  assert.deepEqual([(await fs.lstat('r/q/f'))?.mode, (await fs.lstat('r/q/f'))?.mtimeMs], [0o600, 77]);
  assert.throws(() => fs.user.rm('r'), /directory/);
  assert.throws(() => fs.user.writeFile('../x', 'x'), /relative/);
});

test('ctime strictly increases even when the clock stands still; mtime follows the clock', async () => {
  const { fs, clock } = makeMemFs();
  const a = await put(fs, 'f', 'x');
  await fs.chmod('f', 0o600);
  const b = await fs.lstat('f');
  assert.ok((b?.ctimeMs ?? 0) > a.ctimeMs);
  clock.t += 1000;
  fs.user.writeFile('f', 'y');
  assert.equal((await fs.lstat('f'))?.mtimeMs, clock.t);
});

test('restart: a deep copy of the disk; the crashed instance can no longer touch it', async () => {
  const { fs, scheduler } = recorder();
  await fs.mkdir('d');
  await put(fs, 'd/f', 'kept');
  const inflight = await fs.createTemp('d/g');
  await inflight.write(Buffer.from('half'), 0);
  const fresh = fs.restart();
  await inflight.write(Buffer.from(' written after the crash'), 4);
  await inflight.commit('d/g', { mode: 0o644, mtimeMs: 1 });
  await fs.unlink('d/f');
  assert.equal(await fresh.lstat('d/g'), null);
  assert.equal(await readAll(fresh, 'd/f'), 'kept');
  const leftover = (await fresh.readdir('d')).map((e) => e.name).filter((n) => n.startsWith(TEMP_PREFIX));
  assert.equal(leftover.length, 1);
  assert.equal(await readAll(fresh, `d/${leftover[0]}`), 'half');
  assert.deepEqual(await removeStaleTemps(fresh), [`d/${leftover[0]}`]);
  scheduler.runAll(); // the old watcher is gone: nothing delivered to it
});

test('snapshot: sorted, hashed, links as text, own names left out; same as through the interface', async () => {
  const { fs } = makeMemFs();
  await fs.mkdir('b', 0o700);
  await put(fs, 'b/f', 'hello', 0o600);
  await fs.symlink('../elsewhere', 'a-link');
  const t = await fs.createTemp('b/zz');
  const snap = fs.snapshot();
  assert.deepEqual(snap, [
    { path: 'a-link', kind: 'link', mode: 0o777, link: '../elsewhere' },
    { path: 'b', kind: 'dir', mode: 0o700 },
    {
      path: 'b/f',
      kind: 'file',
      mode: 0o600,
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    },
  ]);
  assert.deepEqual(await snapshotFs(fs), snap);
  assert.equal(fs.snapshot(true).length, 4);
  await t.abort();
});

test('same seed and clock give the same inode numbers and temp names', async () => {
  const run = async () => {
    const { fs } = makeMemFs();
    await fs.mkdir('x/y');
    const t = await fs.createTemp('x/y/f');
    const st = await t.commit('x/y/f', { mode: 0o644, mtimeMs: 3 });
    return { temp: t.path, st, snap: fs.snapshot() };
  };
  assert.deepEqual(await run(), await run());
});
