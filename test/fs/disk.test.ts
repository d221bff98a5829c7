// DiskFs: the shared contract in both confinement modes, plus what only a real disk has.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmod,
  mkdir as mkdirOs,
  readdir,
  readFile,
  rename,
  symlink as symlinkOs,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DiskFs, removeStaleTemps } from '../../src/fs/disk.ts';
import { Confiner } from '../../src/fs/disk-confine.ts';
import { errnoOf, toFsError } from '../../src/fs/disk-errors.ts';
import { PathError } from '../../src/fs/paths.ts';
import { FsError } from '../../src/fs/types.ts';
import { cleanupAll, makeTempDir } from '../harness/tmp.ts';
import { expectCode, put, readAll, runContract } from './contract.ts';
import { confineCases } from './contract-confine.ts';
import { fileCases } from './contract-files.ts';
import { treeCases } from './contract-tree.ts';
import { diskSubject, makeEscape } from './disk-subject.ts';

after(cleanupAll);

const cases = [...fileCases, ...treeCases, ...confineCases];
if (process.platform === 'linux') runContract('DiskFs (procfd pinning)', diskSubject('procfd'), cases);
runContract('DiskFs (lstat checks)', diskSubject('lstat'), cases);

// ——— what only a real disk has ———

test('errno → FsError code, keeping the path and the original error', () => {
  const table: [string, string][] = [
    ['ENOENT', 'ERR_NOT_FOUND'],
    ['ENOTDIR', 'ERR_NOT_FOUND'],
    ['EEXIST', 'ERR_EXISTS'],
    ['ENOTEMPTY', 'ERR_NOT_EMPTY'],
    ['ENOSPC', 'ERR_NO_SPACE'],
    ['EDQUOT', 'ERR_NO_SPACE'],
    ['EACCES', 'ERR_ACCESS'],
    ['EPERM', 'ERR_ACCESS'],
    ['ELOOP', 'ERR_PATH_UNSAFE'],
    ['EIO', 'ERR_IO'],
    ['EBUSY', 'ERR_IO'],
  ];
  for (const [errno, code] of table) {
    const cause = Object.assign(new Error(`${errno}: boom`), { code: errno, syscall: 'open' });
    const e = toFsError(cause, 'a/b');
    assert.deepEqual([e.code, e.path, e.cause, errnoOf(e.cause)], [code, 'a/b', cause, errno]);
  }
  const mine = new FsError('ERR_EXISTS', 'x', 'kept');
  assert.equal(toFsError(mine, 'other'), mine);
  assert.equal(toFsError(new PathError('..', 'dots'), '..').code, 'ERR_PATH_UNSAFE');
  assert.equal(toFsError('weird', 'p').code, 'ERR_IO');
});

test('a real EACCES (as an unprivileged user) becomes ERR_ACCESS with the path', async () => {
  const root = await makeTempDir('resonate-eacces-');
  await chmod(root, 0o755);
  await mkdirOs(join(root, 'locked'), { mode: 0o555 });
  await chmod(join(root, 'locked'), 0o555);
  if (process.getuid?.() !== 0) {
    await expectCode(new DiskFs(root).createTemp('locked/f'), 'ERR_ACCESS', 'locked/f');
    return;
  }
  const child = fileURLToPath(new URL('./fixtures/eacces.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, root], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { code: 'ERR_ACCESS', path: 'locked/f', errno: 'EACCES' });
});

test('on Linux the default mechanism is /proc/self/fd pinning', async (t) => {
  if (process.platform !== 'linux') return t.skip('Linux only');
  assert.equal(await new DiskFs(await makeTempDir()).mechanism(), 'procfd');
});

test('a pinned directory cannot be redirected by swapping it for a symlink afterwards', async (t) => {
  if (process.platform !== 'linux') return t.skip('Linux only');
  const root = await makeTempDir('resonate-pin-');
  const outsideDir = await makeEscape();
  await mkdirOs(join(root, 'a'));
  const pinned = await new Confiner(root, 'procfd').pin('a', 'a/x');
  await rename(join(root, 'a'), join(root, 'a-moved'));
  await symlinkOs(outsideDir, join(root, 'a'));
  await writeFile(pinned.entry('x'), 'landed');
  await pinned.close();
  assert.equal(await readFile(join(root, 'a-moved/x'), 'utf8'), 'landed');
  assert.deepEqual(await readdir(outsideDir), ['passwd']);
});

for (const confine of ['procfd', 'lstat'] as const) {
  test(`${confine}: an ancestor swapped for a symlink between createTemp and commit`, async (t) => {
    if (confine === 'procfd' && process.platform !== 'linux') return t.skip('Linux only');
    const root = await makeTempDir('resonate-swap-');
    const outsideDir = await makeEscape();
    const fs = new DiskFs(root, { confine });
    await fs.mkdir('a');
    const temp = await fs.createTemp('a/passwd');
    await temp.write(Buffer.from('owned'), 0);
    await rename(join(root, 'a'), join(root, 'a-moved'));
    await symlinkOs(outsideDir, join(root, 'a'));
    if (confine === 'procfd') {
      // the rename happens in the directory that was verified, now at a-moved
      await temp.commit('a/passwd', { mode: 0o644, mtimeMs: 1 });
      assert.equal(await readFile(join(root, 'a-moved/passwd'), 'utf8'), 'owned');
    } else {
      await expectCode(temp.commit('a/passwd', { mode: 0o644, mtimeMs: 1 }), 'ERR_PATH_UNSAFE', 'a/passwd');
    }
    assert.equal(await readFile(join(outsideDir, 'passwd'), 'utf8'), 'secret');
    assert.deepEqual(await readdir(outsideDir), ['passwd']);
  });
}

test('the root may itself be a symlink (resolved once); a missing root is ERR_NOT_FOUND until it exists', async () => {
  const real = await makeTempDir('resonate-real-');
  const holder = await makeTempDir('resonate-holder-');
  await symlinkOs(real, join(holder, 'link'));
  const fs = new DiskFs(join(holder, 'link'));
  await put(fs, 'f', 'via link');
  assert.equal(await readFile(join(real, 'f'), 'utf8'), 'via link');
  const later = new DiskFs(join(holder, 'later'));
  await expectCode(later.lstat('f'), 'ERR_NOT_FOUND', '');
  await mkdirOs(join(holder, 'later'));
  assert.equal(await later.lstat('f'), null);
  assert.throws(() => new DiskFs('relative/root'), /absolute/);
});

test('mtimes round-trip exactly to the microsecond', async () => {
  const fs = new DiskFs(await makeTempDir());
  for (const ms of [1_700_000_000_123, 1_700_000_000_123.456, 1_712_345_678_901.5, 0, 86_400_000.001]) {
    assert.equal((await put(fs, 'f', 'x', 0o644, ms)).mtimeMs, ms);
    await fs.utimes('f', ms);
    assert.equal((await fs.lstat('f'))?.mtimeMs, ms);
  }
});

test('after a crash mid-transfer only a temp file remains, and startup removes it', async () => {
  const root = await makeTempDir('resonate-crash-');
  const before = new DiskFs(root);
  await before.mkdir('d');
  await put(before, 'd/f', 'complete');
  const t = await before.createTemp('d/f');
  await t.write(Buffer.from('half of the new ver'), 0);
  // "crash": the process is gone, the handle is never committed; a new instance starts
  const after = new DiskFs(root);
  assert.equal(await readAll(after, 'd/f'), 'complete');
  assert.deepEqual(await removeStaleTemps(after), [t.path]);
  assert.deepEqual(await readdir(join(root, 'd')), ['f']);
});

test('removeStaleTemps does not descend through symlinks', async () => {
  const root = await makeTempDir('resonate-stale-');
  const outsideDir = await makeEscape();
  const fs = new DiskFs(root);
  await writeFile(join(outsideDir, '.resonate-tmp-bait'), 'not ours');
  await symlinkOs(outsideDir, join(root, 'l'));
  assert.deepEqual(await removeStaleTemps(fs), []);
  assert.deepEqual((await readdir(outsideDir)).sort(), ['.resonate-tmp-bait', 'passwd']);
});

test('lstat mode runs check-then-act sections one at a time; procfd mode need not', async () => {
  for (const [confine, serial] of [
    ['lstat', true],
    ['procfd', false],
  ] as const) {
    if (confine === 'procfd' && process.platform !== 'linux') continue;
    const c = new Confiner(await makeTempDir(), confine);
    const log: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const first = c.exclusive(async () => {
      log.push('first start');
      await gate;
      log.push('first end');
    });
    const second = c.exclusive(async () => {
      log.push('second');
    });
    await new Promise((r) => setTimeout(r, 20));
    open();
    await Promise.all([first, second]);
    assert.deepEqual(
      log,
      serial ? ['first start', 'first end', 'second'] : ['first start', 'second', 'first end'],
      confine,
    );
  }
});
