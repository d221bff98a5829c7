// The Store's read cache: bounded in entries and bytes, oldest out first, absent keys
// remembered, and write-through, so that what Store reads is what LevelDB holds, before and
// after a commit, and after a commit that failed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MemoryLevel } from 'memory-level';
import { ReadCache } from '../../src/log/read-cache.ts';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';
import { Txn } from '../../src/log/txn.ts';
import { EntryType, type FileEntry } from '../../src/proto/types.ts';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

test('the cache keeps values and absences, and drops the oldest past its limits', () => {
  const c = new ReadCache(8, 1000, 100);
  assert.equal(c.get('a'), undefined);
  c.set('a', bytes(10));
  c.set('gone', null);
  assert.deepEqual(c.get('a'), bytes(10));
  assert.equal(c.get('gone'), null);
  c.set('huge', bytes(101)); // over maxValueBytes: not kept
  assert.equal(c.get('huge'), undefined);
  c.set('a', bytes(20, 2)); // replaced, not added
  assert.deepEqual(c.get('a'), bytes(20, 2));
  assert.equal(c.size, 2);
  for (let i = 0; i < 7; i++) c.set(`k${i}`, bytes(1));
  // 9 entries > 8: down to 7 at once, the oldest first ('a', then 'gone').
  assert.equal(c.size, 7);
  assert.equal(c.get('a'), undefined);
  assert.equal(c.get('gone'), undefined);
  assert.deepEqual(c.get('k6'), bytes(1));

  const b = new ReadCache(100, 100, 100);
  // The 4th value makes 120 bytes > 100: down to <= 87.5 (v0, v1 out); the 5th fits.
  for (let i = 0; i < 5; i++) b.set(`v${i}`, bytes(30));
  assert.equal(b.size, 3);
  assert.equal(b.get('v0'), undefined);
  assert.equal(b.get('v1'), undefined);
  assert.deepEqual(b.get('v4'), bytes(30));
});

test('a committed batch is cached as copies, absences and all, within the same limits', () => {
  const c = new ReadCache(6, 1000, 100);
  c.set('x', bytes(5, 9));
  const a = bytes(10, 1);
  const b = bytes(20, 2);
  // Values that are views into a larger buffer, as encoded records are.
  const pool = new Uint8Array(64).fill(3);
  const d = pool.subarray(8, 16);
  c.setBatch([
    ['a', a],
    ['x', null], // replaces a cached value with an absence
    ['b', b],
    ['huge', bytes(101)], // over maxValueBytes: not kept
    ['d', d],
  ]);
  a.fill(7);
  b.fill(7);
  pool.fill(7);
  assert.deepEqual(c.get('a'), bytes(10, 1));
  assert.deepEqual(c.get('b'), bytes(20, 2));
  assert.deepEqual(c.get('d'), bytes(8, 3));
  assert.equal(c.get('x'), null);
  assert.equal(c.get('huge'), undefined);
  assert.equal(c.size, 4);
  // The same limits as one at a time: 7 entries > 6, down to 5, the oldest first.
  c.setBatch([
    ['e', bytes(1)],
    ['f', bytes(1)],
    ['g', bytes(1)],
  ]);
  assert.equal(c.size, 5);
  assert.equal(c.get('a'), undefined);
  assert.equal(c.get('x'), undefined);
  assert.deepEqual(c.get('b'), bytes(20, 2));
  const small = new ReadCache(100, 50, 100);
  small.setBatch([
    ['p', bytes(30)],
    ['q', bytes(30)],
  ]);
  assert.equal(small.get('p'), undefined); // 60 bytes > 50: down to <= 43.75
  assert.deepEqual(small.get('q'), bytes(30));
});

function entry(size: number): FileEntry {
  return {
    type: EntryType.File,
    size,
    mtimeMs: 1,
    ino: 1,
    mode: 0o644,
    ctimeMs: 1,
    content: null,
    link: '',
    headPath: 'p',
    version: null,
  };
}

test('Store reads through the cache see every committed write, and nothing of a failed one', async () => {
  const db = new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db;
  const store = await Store.open(db, { random: randomBytes });
  assert.equal(store.getFile('p'), null); // absence now cached
  let txn = new Txn(store);
  txn.setFile('p', entry(5));
  await txn.commit();
  assert.equal(store.getFile('p')?.size, 5);
  txn = new Txn(store);
  txn.setFile('p', entry(6));
  await txn.commit();
  assert.equal(store.getFile('p')?.size, 6);

  // A batch that fails changes neither LevelDB nor what the store reads.
  const batch = db.batch.bind(db);
  (db as { batch: unknown }).batch = () => {
    const chained = batch();
    chained.write = async () => {
      await chained.close();
      throw new Error('disk full');
    };
    return chained;
  };
  txn = new Txn(store);
  txn.setFile('p', null);
  await assert.rejects(txn.commit(), /disk full/);
  assert.equal(store.getFile('p')?.size, 6);
  (db as { batch: unknown }).batch = batch;

  txn = new Txn(store);
  txn.setFile('p', null);
  await txn.commit();
  assert.equal(store.getFile('p'), null);
  // The same answers from LevelDB itself, through a second store on the same database.
  const fresh = await Store.open(db, { random: randomBytes });
  assert.equal(fresh.getFile('p'), null);
});
