// The block index written after its transaction (src/log/block-index.ts): readers see the
// records at once, and what finally lands in LevelDB is what the transactions said, in
// their order, whether a transaction's records went in its own batch or were deferred.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { type BlockLocation, decodeBlockLocation } from '../../src/log/block-index.ts';
import { K } from '../../src/log/keys.ts';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';
import { Txn } from '../../src/log/txn.ts';
import { EntryType, type FileEntry } from '../../src/proto/types.ts';
import { hexOf } from '../../src/util/hex.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const hashOf = (i: number) => new Uint8Array(32).fill(i + 1);
const HASHES = 120;

/** A file entry whose blocks have the hashes `ids` (a block of 10 bytes each). */
function entry(path: string, ids: number[]): FileEntry {
  const blocks = ids.map((id, i) => ({ offset: i * 10, length: 10, hash: hashOf(id) }));
  return {
    type: EntryType.File,
    size: ids.length * 10,
    mtimeMs: 1,
    ino: 0,
    mode: 0o644,
    ctimeMs: 1,
    content: { size: ids.length * 10, digest: hashOf(255), blocks, inlineData: new Uint8Array() },
    link: '',
    headPath: path,
    version: null,
  };
}

/** The db, with each batch write held back a few turns of the event loop (delays cycled). */
function slowDb(db: Db, delays: number[]): Db {
  let n = 0;
  const turn = () => new Promise<void>((r) => setImmediate(r));
  return new Proxy(db, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== 'batch') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        if (args.length > 0) return (target.batch as (...a: unknown[]) => unknown)(...args);
        const batch = target.batch();
        const write = batch.write.bind(batch);
        const wait = delays[n++ % delays.length]!;
        return Object.assign(batch, {
          write: async (...a: Parameters<typeof write>) => {
            for (let i = 0; i < wait; i++) await turn();
            return write(...a);
          },
        });
      };
    },
  });
}

function stored(db: Db, id: number): BlockLocation | null {
  const key = K.block(hexOf(hashOf(id)));
  const v = db.getSync(key);
  return v === undefined ? null : decodeBlockLocation(key, v);
}

test('a large file: its block records are readable at once and on disk once flushed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'resonate-blocks-'));
  dirs.push(dir);
  const open = () => new Level<string, Uint8Array>(dir, { valueEncoding: 'view' }) as unknown as Db;
  const store = await Store.open(open(), { random: randomBytes, nodeId: 'n' });
  const ids = Array.from({ length: 200 }, (_, i) => i);
  const txn = new Txn(store);
  txn.setFile('big', entry('big', ids));
  await txn.commit();
  assert.equal(store.blockIndex.idle, false, 'deferred, not in the transaction');
  assert.deepEqual(store.blockLocation(hashOf(150)), { path: 'big', offset: 1500, length: 10 });
  await store.close(); // flushes
  const again = await Store.open(open(), { random: randomBytes, nodeId: 'n' });
  for (const id of [0, 99, 199]) {
    assert.deepEqual(again.blockLocation(hashOf(id)), { path: 'big', offset: id * 10, length: 10 });
  }
  await again.close();
});

test('block index: in-batch and deferred records end as a model says (property)', async () => {
  // Files draw from 120 hashes; some have enough (> 64) to be deferred. Batch writes are
  // held back at random, so transactions commit while deferred records are being written.
  const fileArb = fc.oneof(
    fc.array(fc.integer({ min: 0, max: HASHES - 1 }), { maxLength: 4 }),
    fc.uniqueArray(fc.integer({ min: 0, max: HASHES - 1 }), { minLength: 65, maxLength: 90 }),
  );
  const stepArb = fc.array(
    fc.record({ path: fc.constantFrom('a', 'b', 'c'), ids: fc.option(fileArb, { nil: null }) }),
    { minLength: 1, maxLength: 3 },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(stepArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
      async (steps, delays) => {
        const db = new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db;
        const store = await Store.open(slowDb(db, delays), { random: randomBytes, nodeId: 'n' });
        const model = new Map<number, BlockLocation>();
        const files = new Map<string, number[]>();
        for (const txnSteps of steps) {
          const txn = new Txn(store);
          for (const { path, ids } of txnSteps) {
            txn.setFile(path, ids === null ? null : entry(path, ids));
            // The rule of Txn.setFile: a block of the new version now here gets a record
            // pointing here unless the old version had it at the same offset (its record is
            // left as it is); a block of the old version's alone loses its record if that
            // points here.
            const wasAt = new Map<number, number>();
            for (const [i, id] of (files.get(path) ?? []).entries()) wasAt.set(id, i * 10);
            for (const [i, id] of (ids ?? []).entries()) {
              if (wasAt.get(id) !== i * 10) model.set(id, { path, offset: i * 10, length: 10 });
            }
            for (const id of wasAt.keys()) {
              if (!(ids ?? []).includes(id) && model.get(id)?.path === path) model.delete(id);
            }
            if (ids === null) files.delete(path);
            else files.set(path, ids);
          }
          await txn.commit();
          for (let id = 0; id < HASHES; id++) {
            assert.deepEqual(store.blockLocation(hashOf(id)), model.get(id) ?? null, `hash ${id} (read)`);
          }
        }
        await store.blockIndex.flush();
        assert.equal(store.blockIndex.idle, true);
        for (let id = 0; id < HASHES; id++) {
          assert.deepEqual(stored(db, id), model.get(id) ?? null, `hash ${id} (stored)`);
        }
        await store.close();
      },
    ),
    { numRuns: 200 },
  );
});
