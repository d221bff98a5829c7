// DiskFs's cached folder handles (fs/disk-pins.ts): a handle's location is checked once per
// turn of the event loop, so what these tests pin down is when a moved folder is noticed.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DiskFs } from '../../src/fs/disk.ts';
import { PinCache } from '../../src/fs/disk-pins.ts';
import { cleanupAll, makeTempDir } from '../harness/tmp.ts';
import { makeEscape } from './disk-subject.ts';

after(cleanupAll);

const linux = process.platform === 'linux';

test('a folder moved away by another process is noticed at the next turn', { skip: !linux }, async () => {
  const root = await makeTempDir('resonate-pins-');
  mkdirSync(join(root, 'a'));
  writeFileSync(join(root, 'a/f'), 'x');
  const fs = new DiskFs(root, { confine: 'procfd' });
  assert.equal((await fs.lstat('a/f'))?.size, 1);
  renameSync(join(root, 'a'), join(root, 'b'));
  await nextTurn();
  assert.equal(await fs.lstat('a/f'), null);
  assert.equal((await fs.lstat('b/f'))?.size, 1);
});

test('a folder replaced by a symlink to the outside is never read through', { skip: !linux }, async () => {
  const root = await makeTempDir('resonate-pins-');
  const outside = await makeEscape(); // holds passwd
  mkdirSync(join(root, 'a'));
  const fs = new DiskFs(root, { confine: 'procfd' });
  assert.equal(await fs.lstat('a/passwd'), null);
  renameSync(join(root, 'a'), join(root, 'a-moved'));
  symlinkSync(outside, join(root, 'a'));
  await nextTurn();
  // Through the symlink the file exists; through the confined path it must not be seen.
  assert.equal(
    await fs.lstat('a/passwd').catch((e: { code?: string }) => e.code ?? 'error'),
    'ERR_PATH_UNSAFE',
  );
  await assert.rejects(fs.openRead('a/passwd'), { code: 'ERR_PATH_UNSAFE' });
});

test("DiskFs's own folder rename is seen at once, in the same turn", { skip: !linux }, async () => {
  const root = await makeTempDir('resonate-pins-');
  const fs = new DiskFs(root, { confine: 'procfd' });
  await fs.mkdir('a');
  writeFileSync(join(root, 'a/f'), 'x');
  assert.equal((await fs.lstat('a/f'))?.size, 1);
  await fs.rename('a', 'b');
  assert.equal(await fs.lstat('a/f'), null);
  await fs.mkdir('a');
  assert.equal(await fs.lstat('a/f'), null);
  assert.equal((await fs.lstat('b/f'))?.size, 1);
});

test('a handle is checked once per turn, and at every use while a folder change is under way', {
  skip: !linux,
}, async () => {
  const root = await makeTempDir('resonate-pins-');
  mkdirSync(join(root, 'a'));
  writeFileSync(join(root, 'a/f'), 'x');
  let changing = false;
  const pins = new PinCache(root, () => !changing);
  try {
    assert.equal(pins.lstat('a', 'f')?.size, 1);
    renameSync(join(root, 'a'), join(root, 'b'));
    // Same turn: the check is not repeated, the handle still names the moved folder.
    assert.equal(pins.lstat('a', 'f')?.size, 1);
    changing = true;
    assert.equal(pins.lstat('a', 'f'), undefined, 'checked again while a change is under way');
    changing = false;
    renameSync(join(root, 'b'), join(root, 'a'));
    assert.equal(pins.lstat('a', 'f')?.size, 1);
    renameSync(join(root, 'a'), join(root, 'b'));
    pins.forgetVerified();
    assert.equal(pins.lstat('a', 'f'), undefined, 'checked again once forgotten');
    renameSync(join(root, 'b'), join(root, 'a'));
    assert.equal(pins.lstat('a', 'f')?.size, 1);
    renameSync(join(root, 'a'), join(root, 'b'));
    await nextTurn();
    assert.equal(pins.lstat('a', 'f'), undefined, 'checked again at the next turn');
  } finally {
    pins.close();
  }
});
