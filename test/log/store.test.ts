import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { ofDot } from '../../src/clock/vector.ts';
import { K } from '../../src/log/keys.ts';
import { CorruptRecordError, openRecord, sealRecord } from '../../src/log/record.ts';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';
import { LogGapError, Txn } from '../../src/log/txn.ts';
import { EntryType, Kind, type Operation } from '../../src/proto/types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDb(): { path: string; open: () => Db } {
  const path = mkdtempSync(join(tmpdir(), 'resonate-log-'));
  dirs.push(path);
  return {
    path,
    open: () => new Level<string, Uint8Array>(path, { valueEncoding: 'view' }) as unknown as Db,
  };
}

function op(origin: string, seq: number, path: string): Operation {
  return {
    format: 1,
    origin,
    seq,
    clock: ofDot({ origin, seq }),
    hlc: seq * 1024,
    path,
    kind: Kind.Put,
    mode: 0o644,
    mtimeMs: 1,
    content: { size: 1, digest: new Uint8Array([seq & 255]), blocks: [], inlineData: new Uint8Array([1]) },
    link: '',
    to: '',
    entries: [],
  };
}

type Cmd = { kind: 'append'; origin: number; count: number; path: number } | { kind: 'reopen' };

test('a model of appends, range reads and reopens agrees with the LevelDB log', async () => {
  const origins = ['a~1', 'b~1', 'c~1'];
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant('append' as const),
            origin: fc.nat(2),
            count: fc.integer({ min: 1, max: 4 }),
            path: fc.nat(3),
          }),
          fc.record({ kind: fc.constant('reopen' as const) }),
        ),
        { maxLength: 12 },
      ),
      fc.nat(6),
      async (cmds: Cmd[], after) => {
        const { open } = tempDb();
        let store = await Store.open(open(), { random: randomBytes, nodeId: 'me' });
        const logId = store.logId;
        const model = new Map<string, Operation[]>(origins.map((o) => [o, []]));
        for (const c of cmds) {
          if (c.kind === 'reopen') {
            await store.close();
            store = await Store.open(open(), { random: randomBytes });
            assert.equal(store.logId, logId, 'log id survives a reopen');
            assert.equal(store.nodeId, 'me', 'node id is kept in the state');
            continue;
          }
          const origin = origins[c.origin]!;
          const txn = new Txn(store);
          const list = model.get(origin)!;
          for (let i = 0; i < c.count; i++) {
            const o = op(origin, list.length + 1, `p${c.path}`);
            txn.appendOp(o);
            txn.notePath(o.path, o);
            list.push(o);
          }
          await txn.commit();
        }
        for (const origin of origins) {
          const expected = model.get(origin)!;
          assert.equal(store.held(origin), expected.length);
          const got: number[] = [];
          for await (const { op: o } of store.opsAfter(origin, after)) got.push(o.seq);
          assert.deepEqual(
            got,
            expected.filter((o) => o.seq > after).map((o) => o.seq),
          );
          for (const o of expected) assert.equal(store.getOp({ origin, seq: o.seq })?.op.path, o.path);
        }
        for (let p = 0; p < 4; p++) {
          const hist = await store.pathHistory(`p${p}`);
          const expected = [...model.values()].flat().filter((o) => o.path === `p${p}`);
          assert.equal(hist.length, expected.length);
        }
        await store.close();
      },
    ),
    { numRuns: 40 },
  );
});

test('an operation that does not follow its origin is refused', async () => {
  const store = await Store.open(new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db, {
    random: randomBytes,
  });
  const txn = new Txn(store);
  txn.appendOp(op('a~1', 1, 'x'));
  assert.throws(() => txn.appendOp(op('a~1', 3, 'x')), LogGapError);
  assert.throws(() => txn.appendOp(op('a~1', 1, 'x')), LogGapError);
});

test('a wiped log gets a new log id (and so a new origin)', async () => {
  const { path, open } = tempDb();
  const s1 = await Store.open(open(), { random: randomBytes, nodeId: 'n' });
  await s1.close();
  rmSync(path, { recursive: true, force: true });
  const s2 = await Store.open(open(), { random: randomBytes, nodeId: 'n' });
  assert.notEqual(s1.logId, s2.logId);
  assert.notEqual(s1.origin, s2.origin);
  await s2.close();
});

test('file index updates keep the block index in step', async () => {
  const store = await Store.open(new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db, {
    random: randomBytes,
  });
  const hash = new Uint8Array(32).fill(7);
  const entry = (h: Uint8Array) => ({
    type: EntryType.File,
    size: 10,
    mtimeMs: 1,
    ino: 1,
    mode: 0o644,
    ctimeMs: 1,
    content: {
      size: 10,
      digest: h,
      blocks: [{ offset: 0, length: 10, hash: h }],
      inlineData: new Uint8Array(),
    },
    link: '',
    headPath: 'a',
    version: null,
  });
  let txn = new Txn(store);
  txn.setFile('a', entry(hash));
  txn.setFile('b', entry(hash));
  await txn.commit();
  assert.equal(store.blockLocation(hash)?.path, 'b');
  txn = new Txn(store);
  txn.setFile('a', null); // 'b' is the indexed holder: removing 'a' keeps the location
  await txn.commit();
  assert.equal(store.blockLocation(hash)?.path, 'b');
  txn = new Txn(store);
  txn.setFile('b', entry(new Uint8Array(32).fill(9)));
  await txn.commit();
  assert.equal(store.blockLocation(hash), null);
  assert.equal(store.getFile('a'), null);
  // Block records skip the read cache when written: a cached "absent" must not outlive them.
  txn = new Txn(store);
  txn.setFile('c', entry(hash));
  await txn.commit();
  assert.deepEqual(store.blockLocation(hash), { path: 'c', offset: 0, length: 10 });
});

test('a file edit rewrites the block records of moved blocks, drops gone ones, keeps the rest', async () => {
  const store = await Store.open(new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db, {
    random: randomBytes,
  });
  const h = (n: number) => new Uint8Array(32).fill(n);
  // Block i of a file is at offset 10 * i.
  const file = (path: string, ids: number[]) => ({
    type: EntryType.File,
    size: 40,
    mtimeMs: 1,
    ino: 0,
    mode: 0o644,
    ctimeMs: 1,
    content: {
      size: 40,
      digest: h(99),
      blocks: ids.map((n, i) => ({ offset: 10 * i, length: 10, hash: h(n) })),
      inlineData: new Uint8Array(),
    },
    link: '',
    headPath: path,
    version: null,
  });
  let txn = new Txn(store);
  txn.setFile('f', file('f', [1, 2, 3, 4]));
  await txn.commit();
  txn = new Txn(store);
  // 2 moves from 10 to 20, 3 is gone, 5 is new at 10; 1 and 4 stay where they were.
  txn.setFile('f', file('f', [1, 5, 2, 4]));
  await txn.commit();
  await store.blockIndex.flush();
  const at = (n: number) => store.blockLocation(h(n));
  assert.deepEqual(at(1), { path: 'f', offset: 0, length: 10 });
  assert.deepEqual(at(2), { path: 'f', offset: 20, length: 10 });
  assert.equal(at(3), null);
  assert.deepEqual(at(4), { path: 'f', offset: 30, length: 10 });
  assert.deepEqual(at(5), { path: 'f', offset: 10, length: 10 });
  // A gone block whose record names another file keeps that record.
  txn = new Txn(store);
  txn.setFile('g', file('g', [6]));
  txn.setFile('f', file('f', [6]));
  txn.setFile('g', file('g', [7]));
  await txn.commit();
  txn = new Txn(store);
  txn.setFile('f', file('f', [7]));
  txn.setFile('g', null);
  await txn.commit();
  assert.deepEqual(at(7), { path: 'f', offset: 0, length: 10 });
  assert.equal(at(1), null);
});

test('a damaged record is reported, not decoded', () => {
  const sealed = sealRecord(new Uint8Array([1, 2, 3]));
  assert.deepEqual([...openRecord('k', sealed)], [1, 2, 3]);
  const bad = Uint8Array.from(sealed);
  bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
  assert.throws(() => openRecord('k', bad), CorruptRecordError);
  assert.throws(() => openRecord('k', new Uint8Array([1])), CorruptRecordError);
});

test('headKinds lists every head with the kind of each version, as heads() does', async () => {
  const store = await Store.open(new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db, {
    random: randomBytes,
  });
  const version = (seq: number, kind: Kind) => ({
    dot: { origin: store.origin, seq },
    clock: ofDot({ origin: store.origin, seq }),
    hlc: seq,
    kind,
    mode: 0o644,
    mtimeMs: 1,
    content: kind === Kind.Put ? op(store.origin, seq, 'x').content : null,
    link: '',
  });
  const txn = new Txn(store);
  txn.setHead('a', {
    versions: [version(1, Kind.Put)],
    accepted: null,
    covered: ofDot({ origin: store.origin, seq: 1 }),
  });
  txn.setHead('b/c', {
    versions: [version(2, Kind.Put), version(3, Kind.Delete), version(4, Kind.Mkdir)],
    accepted: null,
    covered: { vv: {}, except: [] },
  });
  txn.setHead('d', { versions: [version(5, Kind.Delete)], accepted: null, covered: { vv: {}, except: [] } });
  await txn.commit();
  const kinds: [string, Kind[]][] = [];
  for await (const e of store.headKinds()) kinds.push(e);
  assert.deepEqual(kinds, [
    ['a', [Kind.Put]],
    ['b/c', [Kind.Put, Kind.Delete, Kind.Mkdir]],
    ['d', [Kind.Delete]],
  ]);
  const full: [string, Kind[]][] = [];
  for await (const [p, h] of store.heads()) full.push([p, h.versions.map((v) => v.kind)]);
  assert.deepEqual(kinds, full);
  for (const [p, k] of kinds) assert.deepEqual(store.kindsAt(p), k, p);
  assert.deepEqual(store.kindsAt('none'), []);
});

test("a small file's bytes are stored once, in its operation; heads and index entries name them by hash", async () => {
  const store = await Store.open(new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db, {
    random: randomBytes,
  });
  const o = op(store.origin, 1, 'small');
  assert.equal(o.content?.inlineData.length, 1);
  const txn = new Txn(store);
  txn.appendOp(o);
  txn.setHead('small', {
    versions: [
      {
        dot: { origin: store.origin, seq: 1 },
        clock: o.clock,
        hlc: o.hlc,
        kind: Kind.Put,
        mode: o.mode,
        mtimeMs: 1,
        content: o.content,
        link: '',
      },
    ],
    accepted: null,
    covered: o.clock,
  });
  txn.setFile('small', {
    type: EntryType.File,
    size: 1,
    mtimeMs: 1,
    ino: 5,
    mode: 0o644,
    ctimeMs: 1,
    content: o.content,
    link: '',
    headPath: 'small',
    version: { origin: store.origin, seq: 1 },
  });
  await txn.commit();
  // Read back from LevelDB itself, past the read cache.
  const reopened = await Store.open(store.db, { random: randomBytes });
  assert.deepEqual(
    [...(reopened.getOp({ origin: store.origin, seq: 1 })?.op.content?.inlineData ?? [])],
    [1],
  );
  const head = reopened.getHead('small');
  assert.equal(head?.versions[0]?.content?.inlineData.length, 0);
  assert.deepEqual([...(head?.versions[0]?.content?.digest ?? [])], [...(o.content?.digest ?? [])]);
  const file = reopened.getFile('small');
  assert.equal(file?.content?.inlineData.length, 0);
  assert.equal(file?.content?.size, 1);
  // The caller's objects are left as they were.
  assert.equal(o.content?.inlineData.length, 1);
});

test('filePaths lists every indexed path below a folder, in key order, past one batch of keys', async () => {
  const store = await Store.open(new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db, {
    random: randomBytes,
  });
  const dirEntry = (p: string) => ({
    type: EntryType.Directory,
    size: 0,
    mtimeMs: 1,
    ino: 0,
    mode: 0o755,
    ctimeMs: 1,
    content: null,
    link: '',
    headPath: p,
    version: null,
  });
  const below = Array.from({ length: 2500 }, (_, i) => `d/f${String(i).padStart(4, '0')}`);
  const txn = new Txn(store);
  for (const p of ['d', 'd0', 'd0/x', 'c', 'e', ...below, 'd/sub/deeper']) txn.setFile(p, dirEntry(p));
  await txn.commit();
  const got = await store.filePaths(K.filesUnder('d'));
  assert.deepEqual(got, [...below, 'd/sub/deeper'].sort());
  assert.deepEqual(await store.filePaths(K.filesUnder('d0')), ['d0/x']);
  assert.deepEqual(await store.filePaths(K.filesUnder('nothing')), []);
  assert.equal((await store.filePaths(K.filesUnder(''))).length, below.length + 6);
});

test('operations are read from LevelDB each time, never held in the read cache', async () => {
  const db = new MemoryLevel({ valueEncoding: 'view' }) as unknown as Db;
  const store = await Store.open(db, { random: randomBytes });
  const reads: string[] = [];
  const getSync = db.getSync.bind(db);
  db.getSync = (key: string) => {
    reads.push(key);
    return getSync(key);
  };
  const txn = new Txn(store);
  const o = op(store.origin, 1, 'f');
  txn.appendOp(o);
  txn.setFile('f', null);
  await txn.commit();
  const dot = { origin: store.origin, seq: 1 };
  assert.equal(store.getOp(dot)?.op.path, 'f');
  assert.equal(store.getOp(dot)?.op.content?.inlineData?.[0], 1);
  // Both reads went to LevelDB (a small file's operation is read about once: kept, 5,000 of
  // them filled the cache with ~4 MiB the heads and index entries needed)...
  assert.deepEqual(reads, [K.op(store.origin, 1), K.op(store.origin, 1)]);
  // ...while the index entry written beside it is served from the cache.
  assert.equal(store.getFile('f'), null);
  assert.equal(reads.length, 2);
});
