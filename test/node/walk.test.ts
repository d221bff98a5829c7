// walk on a real folder: with statFiles false (a first scan) it lists the same paths as
// with lstats, files as UNSTATED_FILE (which matches no index entry), folders and links
// with their real lstat, and skips what the rules skip before looking at it.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DiskFs } from '../../src/fs/disk.ts';
import { createIgnoreRules } from '../../src/fs/ignore.ts';
import { statMatches } from '../../src/node/observe.ts';
import { UNSTATED_FILE, walk } from '../../src/node/walk.ts';
import { blankFileEntry, EntryType, type FileEntry } from '../../src/proto/types.ts';
import { makeTempDir, removeTree } from '../harness/tmp.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await removeTree(d);
});

test('walk without file stats lists what a full walk lists, files unstated, the rest with their lstat', async () => {
  const root = await makeTempDir('walk-');
  dirs.push(root);
  mkdirSync(join(root, 'a/b'), { recursive: true });
  mkdirSync(join(root, '.resonate'));
  writeFileSync(join(root, '.resonate/state'), 'x');
  writeFileSync(join(root, 'top.txt'), 'hello');
  writeFileSync(join(root, 'a/b/deep.bin'), Buffer.alloc(3000, 7));
  writeFileSync(join(root, 'a/.x.swp'), 'editor scratch');
  symlinkSync('top.txt', join(root, 'a/link'));
  const fs = new DiskFs(root);
  const ignore = createIgnoreRules();
  const full = await walk(fs, '', { ignore });
  const quick = await walk(fs, '', { ignore, statFiles: false });
  assert.deepEqual([...quick.keys()].sort(), ['a', 'a/b', 'a/b/deep.bin', 'a/link', 'top.txt']);
  assert.deepEqual([...full.keys()].sort(), [...quick.keys()].sort());
  for (const [path, st] of quick) {
    if (st.kind === 'file') {
      assert.equal(st, UNSTATED_FILE, path);
      assert.equal(full.get(path)?.size, lstatSync(join(root, path)).size, path);
    } else assert.deepEqual(st, full.get(path), path);
  }
  assert.equal(quick.get('a/link')?.kind, 'link');
  assert.equal(quick.get('a/b')?.ino, lstatSync(join(root, 'a/b')).ino);
});

test('an unstated file never matches an index entry', () => {
  const entry: FileEntry = { ...blankFileEntry(), type: EntryType.File, headPath: 'f' };
  assert.equal(statMatches(UNSTATED_FILE, entry), false);
  assert.equal(statMatches(UNSTATED_FILE, null), false);
  assert.ok(Object.isFrozen(UNSTATED_FILE));
});
