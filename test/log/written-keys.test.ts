// The filter of keys written since an empty log was opened (src/log/written-keys.ts), and
// the store's use of it: absent keys are answered without LevelDB, written ones never are.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { Level } from 'level';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';
import { Txn } from '../../src/log/txn.ts';
import { WrittenKeys } from '../../src/log/written-keys.ts';
import { EntryType, type FileEntry } from '../../src/proto/types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the filter has no false negatives, and few false positives', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 500 }), (keys) => {
      const w = new WrittenKeys();
      for (const k of keys) w.add(k);
      for (const k of keys) assert.equal(w.mayHave(k), true, k);
    }),
  );
  const w = new WrittenKeys();
  for (let i = 0; i < 700_000; i++) w.add(`f!folder${i % 100}/file${i}`);
  let yes = 0;
  for (let i = 0; i < 100_000; i++) if (w.mayHave(`f!folder${i % 100}/other${i}`)) yes++;
  assert.ok(yes < 1_500, `${yes} false positives in 100,000`);
});

function entry(path: string): FileEntry {
  return {
    type: EntryType.Directory,
    size: 0,
    mtimeMs: 1,
    ino: 7,
    mode: 0o755,
    ctimeMs: 1,
    content: null,
    link: '',
    headPath: path,
    version: null,
  };
}

test('a store opened on an empty log answers new keys without LevelDB; a reopened one reads them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'resonate-written-'));
  dirs.push(dir);
  const open = () => new Level<string, Uint8Array>(dir, { valueEncoding: 'view' }) as unknown as Db;
  const db = open();
  const store = await Store.open(db, { random: randomBytes, nodeId: 'n' });
  let gets = 0;
  const getSync = db.getSync.bind(db);
  db.getSync = ((key: string) => {
    gets++;
    return getSync(key);
  }) as typeof db.getSync;
  assert.equal(store.getFile('a'), null);
  assert.equal(store.getHead('a'), null);
  assert.equal(gets, 0, 'absent keys of an empty log are not looked up');
  const txn = new Txn(store);
  txn.setFile('a', entry('a'));
  await txn.commit();
  assert.equal(store.getFile('a')?.ino, 7);
  assert.equal(store.pathOfInode(7), 'a');
  // Written long ago (out of the read cache by now): the filter sends the read to LevelDB.
  const many = new Txn(store);
  for (let i = 0; i < 20_000; i++) many.setFile(`p${i}`, { ...entry(`p${i}`), ino: 100 + i });
  await many.commit();
  gets = 0;
  assert.equal(store.getFile('p0')?.ino, 100);
  assert.equal(store.pathOfInode(100), 'p0');
  assert.equal(gets, 2);
  await store.close();
  // A second process: the log is not empty, so every key is looked up.
  const again = await Store.open(open(), { random: randomBytes, nodeId: 'n' });
  assert.equal(again.getFile('a')?.ino, 7);
  assert.equal(again.pathOfInode(7), 'a');
  assert.equal(again.getFile('b'), null);
  await again.close();
});
