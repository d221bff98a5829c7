// Re-hashing a changed file from the prints of an earlier reading (src/fs/rehash.ts): the
// result must be exactly the Content a full hash gives, whatever the edit, and an edit must
// leave most blocks to be found again rather than hashed.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { type BlockPrints, PRINTS_MIN, PrintsCache, printsOf } from '../../src/fs/block-prints.ts';
import { type ChunkParams, chunkAll, DEFAULT_CHUNK_PARAMS } from '../../src/fs/chunker.ts';
import { digestOf, Pipeline, READ_BUFFER } from '../../src/fs/hash-pipeline.ts';
import { ChangedWhileReadingError, hashFile, printsCacheOf } from '../../src/fs/hasher.ts';
import { RehashGaveUpError, rehash } from '../../src/fs/rehash.ts';
import type { FileSystem, ReadHandle, Stat } from '../../src/fs/types.ts';
import { fastHash, sharedMemory, slotsFree } from '../../src/fs/wasm/gear.ts';
import type { Content } from '../../src/proto/types.ts';
import { seededBytes } from '../harness/files.ts';

const SMALL: ChunkParams = { min: 256, avg: 1024, max: 4096 };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** XXH64 (seed 0) written from the specification with BigInt: the reference for the wasm. */
function xxh64Reference(data: Uint8Array): bigint {
  const M = (1n << 64n) - 1n;
  const P1 = 11400714785074694791n;
  const P2 = 14029467366897019727n;
  const P3 = 1609587929392839161n;
  const P4 = 9650029242287828579n;
  const P5 = 2870177450012600261n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
  const u64 = (o: number) => Buffer.from(data.buffer, data.byteOffset + o, 8).readBigUInt64LE();
  const round = (acc: bigint, lane: bigint) => (rotl((acc + lane * P2) & M, 31n) * P1) & M;
  let p = 0;
  let h: bigint;
  if (data.length >= 32) {
    const v = [(P1 + P2) & M, P2, 0n, (M + 1n - P1) & M];
    for (; p + 32 <= data.length; p += 32) for (let k = 0; k < 4; k++) v[k] = round(v[k]!, u64(p + 8 * k));
    h = (rotl(v[0]!, 1n) + rotl(v[1]!, 7n) + rotl(v[2]!, 12n) + rotl(v[3]!, 18n)) & M;
    for (const x of v) h = (((h ^ round(0n, x)) * P1) & M) + P4;
    h &= M;
  } else h = P5;
  h = (h + BigInt(data.length)) & M;
  for (; p + 8 <= data.length; p += 8) h = (((rotl(h ^ round(0n, u64(p)), 27n) * P1) & M) + P4) & M;
  if (p + 4 <= data.length) {
    const w = BigInt(Buffer.from(data.buffer, data.byteOffset + p, 4).readUInt32LE());
    h = ((rotl(h ^ ((w * P1) & M), 23n) * P2) & M) + P3;
    h &= M;
    p += 4;
  }
  for (; p < data.length; p++) h = (rotl(h ^ ((BigInt(data[p]!) * P5) & M), 11n) * P1) & M;
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  return h ^ (h >> 32n);
}

/** The Content of data computed directly, for comparison. */
function expected(data: Uint8Array, params: ChunkParams): Content {
  let start = 0;
  const blocks = chunkAll(data, params).map((end) => {
    const b = { offset: start, length: end - start, hash: sha(data.subarray(start, end)) };
    start = end;
    return b;
  });
  return { size: data.length, digest: digestOf(blocks), blocks, inlineData: new Uint8Array(0) };
}

const norm = (c: Content) => ({
  size: c.size,
  digest: Buffer.from(c.digest).toString('hex'),
  blocks: c.blocks.map((b) => `${b.offset}+${b.length}:${Buffer.from(b.hash).toString('hex')}`),
});

function handleOf(data: Uint8Array, onRead?: () => void): ReadHandle {
  return {
    async read(buf, offset, length, position) {
      onRead?.();
      const part = data.subarray(position, position + length);
      buf.set(part, offset);
      return part.length;
    },
    stat: async () => ({ kind: 'file', size: data.length, mtimeMs: 1, ctimeMs: 1, ino: 1, mode: 0o644 }),
    close: async () => {},
  };
}

/** Prints as a full hash leaves them (read buffers of the wasm memory, XXH64 taken in place). */
async function fullPrints(data: Uint8Array, params: ChunkParams): Promise<BlockPrints> {
  const p = new Pipeline({ params, offload: false, prints: true });
  for (let at = 0; at < data.length; ) {
    const buf = await p.acquire();
    const n = Math.min(buf.length, data.length - at);
    buf.set(data.subarray(at, at + n));
    p.push(buf, n);
    at += n;
  }
  const content = await p.finish();
  return printsOf(content, p.fastHashes());
}

test('the wasm XXH64 matches the specification, in and outside the wasm memory', () => {
  const vectors: [string, string][] = [
    ['', 'ef46db3751d8e999'],
    ['a', 'd24ec4f1a98c6e5b'],
    ['abc', '44bc2cf5ad770999'],
    ['Nobody inspects the spammish repetition', 'fbcea83c8a378bf1'],
  ];
  for (const [text, hex] of vectors) {
    const b = Buffer.from(text);
    assert.equal(fastHash(b, 0, b.length).toString(16).padStart(16, '0'), hex, text);
  }
  const data = randomBytes(5000);
  const inWasm = new Uint8Array(sharedMemory, 4 << 20, data.length);
  const slotFree = slotsFree();
  assert.ok(slotFree > 0);
  inWasm.set(data); // the first slot's bytes: no hash is running in this test
  for (const len of [...Array(100).keys(), 255, 256, 1000, 4093, 4999]) {
    const at = len % 7;
    const want = xxh64Reference(data.subarray(at, at + len));
    assert.equal(fastHash(data, at, at + len), want, `copied, length ${len}`);
    assert.equal(fastHash(inWasm, at, at + len), want, `in place, length ${len}`);
  }
});

type Edit =
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number };

function apply(data: Uint8Array, e: Edit): Uint8Array {
  const at = Math.min(e.at, data.length);
  if (e.kind === 'insert') return Buffer.concat([data.subarray(0, at), e.bytes, data.subarray(at)]);
  if (e.kind === 'delete') return Buffer.concat([data.subarray(0, at), data.subarray(at + e.len)]);
  const out = Buffer.from(data);
  out.set(e.bytes.subarray(0, Math.max(0, out.length - at)), at);
  return out;
}

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant('overwrite' as const),
    at: fc.nat(1_600_000),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 9000 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(1_600_000),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 9000 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(1_600_000),
    len: fc.integer({ min: 1, max: 9000 }),
  }),
);

test('a rehash gives exactly what a full hash gives, whatever the edits', async () => {
  // Two rounds of edits: the first rehash starts from a full hash's prints (the last block,
  // and blocks across read buffers, without one), the second from the first's (all known).
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 1_600_000 }),
      fc.array(fc.array(editArb, { minLength: 0, maxLength: 3 }), { minLength: 1, maxLength: 2 }),
      fc.integer({ min: 0, max: 2 ** 31 }),
      async (size, rounds, seed) => {
        const old = seededBytes(size, seed); // so a failure can be replayed
        let now: Uint8Array = old;
        let prior = await fullPrints(old, SMALL);
        for (const edits of rounds) {
          now = edits.reduce(apply, now);
          const r = await rehash(handleOf(now), 'f', now.length, prior, SMALL);
          assert.deepEqual(norm(r.content), norm(expected(now, SMALL)));
          const data = now;
          assert.deepEqual(
            r.fast,
            r.content.blocks.map((b) => fastHash(data, b.offset, b.offset + b.length)),
          );
          prior = printsOf(r.content, r.fast);
        }
      },
    ),
    { numRuns: 40 },
  );
});

test('an edit leaves the blocks around it to be found again, not hashed', async () => {
  const old = randomBytes(3 * READ_BUFFER + 12_345); // blocks across read buffers too
  const prior = await fullPrints(old, SMALL);
  const unknown = prior.known.length - prior.known.reduce((a, b) => a + b, 0);
  assert.ok(unknown > 0 && unknown < 10, `${unknown} blocks without prints`);
  const cases: [string, Uint8Array][] = [
    ['overwrite', apply(old, { kind: 'overwrite', at: 1_000_000, bytes: randomBytes(4096) })],
    ['insert at front', apply(old, { kind: 'insert', at: 0, bytes: Buffer.from([7]) })],
    ['delete', apply(old, { kind: 'delete', at: 2_000_000, len: 100 })],
    ['unchanged', old],
  ];
  for (const [what, now] of cases) {
    const r = await rehash(handleOf(now), 'f', now.length, prior, SMALL);
    assert.deepEqual(norm(r.content), norm(expected(now, SMALL)), what);
    // What is hashed anew: the blocks the edit touched, the next one or two until the cuts
    // meet again, and the few old blocks that had no print.
    const fresh = now.length - r.reused;
    assert.ok(fresh <= 4096 + (4 + unknown) * SMALL.max, `${what}: ${fresh} bytes hashed anew`);
  }
});

test('a file that is mostly new gives up (for the pipelined full hash)', async () => {
  const prior = await fullPrints(randomBytes(20 << 20), DEFAULT_CHUNK_PARAMS);
  const now = randomBytes(20 << 20);
  await assert.rejects(rehash(handleOf(now), 'f', now.length, prior), RehashGaveUpError);
  assert.equal(slotsFree(), 12, 'the window went back');
});

/** A one-file FileSystem for hashFile; `meddle` runs before each read. */
function oneFileFs(file: { data: Uint8Array; mtimeMs: number }, meddle?: () => void): FileSystem {
  const stat = (): Stat => ({
    kind: 'file',
    size: file.data.length,
    mtimeMs: file.mtimeMs,
    ctimeMs: file.mtimeMs,
    ino: 1,
    mode: 0o644,
  });
  const no = () => Promise.reject(new Error('not in this fake'));
  return {
    root: '/mem',
    openRead: async () => ({
      async read(buf, offset, length, position) {
        meddle?.();
        const part = file.data.subarray(position, position + length);
        buf.set(part, offset);
        return part.length;
      },
      stat: async () => stat(),
      close: async () => {},
    }),
    lstat: async () => stat(),
    readdir: no,
    readdirStat: no,
    readlink: no,
    createTemp: no,
    mkdir: no,
    rmdir: no,
    unlink: no,
    rename: no,
    symlink: no,
    chmod: no,
    utimes: no,
    fsyncDir: no,
  };
}

test('hashFile takes prints from the second reading of a large file, then re-hashes from them', async () => {
  const file = { data: randomBytes(PRINTS_MIN + 3 * READ_BUFFER + 5) as Uint8Array, mtimeMs: 1 };
  const fs = oneFileFs(file);
  const cache = printsCacheOf(fs);
  const first = await hashFile(fs, 'big.bin');
  assert.equal(first.reused, 0);
  assert.equal(cache.get('big.bin'), null, 'first reading: remembered, no prints taken');
  assert.deepEqual(norm(first.content), norm(expected(file.data, DEFAULT_CHUNK_PARAMS)));
  const edits: [string, Uint8Array][] = [
    ['first change', apply(file.data, { kind: 'overwrite', at: 3 << 20, bytes: randomBytes(1000) })],
    ['1 MiB overwritten', apply(file.data, { kind: 'overwrite', at: 9 << 20, bytes: randomBytes(1 << 20) })],
    ['1 byte inserted at the front', apply(file.data, { kind: 'insert', at: 0, bytes: Buffer.from([1]) })],
  ];
  for (const [what, data] of edits) {
    const prior = cache.get('big.bin');
    file.data = data;
    file.mtimeMs++;
    const r = await hashFile(fs, 'big.bin');
    assert.deepEqual(norm(r.content), norm(expected(data, DEFAULT_CHUNK_PARAMS)), what);
    if (!prior) {
      // Hashed in full, taking prints, most of them on the worker (past OFFLOAD_MIN): only
      // blocks across read buffers (one per MiB at most) and the last one lack theirs.
      assert.equal(r.reused, 0, what);
      const taken = cache.get('big.bin')!;
      const missing = taken.known.length - taken.known.reduce((a, b) => a + b, 0);
      assert.ok(missing <= Math.ceil(data.length / READ_BUFFER) + 1, `${missing} of ${taken.known.length}`);
      continue;
    }
    // Hashed anew: the edit, a block or two until the cuts meet again, and the blocks the
    // last reading had no print for.
    const unknown = prior.lengths.reduce((sum, len, i) => sum + (prior.known[i] ? 0 : len), 0);
    const fresh = data.length - r.reused;
    assert.ok(fresh <= (1 << 20) + unknown + 3 * DEFAULT_CHUNK_PARAMS.max, `${what}: ${fresh} hashed anew`);
    assert.ok(
      cache.get('big.bin')!.known.every((k) => k === 1),
      'a rehash leaves every print',
    );
  }
  file.data = randomBytes(file.data.length);
  file.mtimeMs++;
  const all = await hashFile(fs, 'big.bin');
  assert.equal(all.reused, 0, 'all new: hashed in full');
  assert.deepEqual(norm(all.content), norm(expected(file.data, DEFAULT_CHUNK_PARAMS)));
});

test('a file that changes while it is re-hashed fails with ERR_CHANGED_WHILE_READING', async () => {
  const file = { data: randomBytes(PRINTS_MIN + 1000) as Uint8Array, mtimeMs: 1 };
  let reads = 0;
  const fs = oneFileFs(file, () => {
    if (++reads === 3 && file.mtimeMs === 2) file.mtimeMs = 3;
  });
  await hashFile(fs, 'big.bin');
  await hashFile(fs, 'big.bin'); // the second reading takes prints
  file.data = apply(file.data, { kind: 'overwrite', at: 5, bytes: Buffer.from('x') });
  file.mtimeMs = 2;
  reads = 0;
  await assert.rejects(hashFile(fs, 'big.bin'), ChangedWhileReadingError);
  const again = await hashFile(fs, 'big.bin');
  assert.ok(again.reused > 0, 'the earlier prints are still used');
  assert.deepEqual(norm(again.content), norm(expected(file.data, DEFAULT_CHUNK_PARAMS)));
});

test('the prints cache keeps the files used last, within its bound of blocks', () => {
  const prints = (blocks: number): BlockPrints =>
    printsOf(
      {
        size: blocks,
        digest: new Uint8Array(32),
        blocks: Array.from({ length: blocks }, (_, i) => ({
          offset: i,
          length: 1,
          hash: new Uint8Array(32),
        })),
        inlineData: new Uint8Array(0),
      },
      [],
    );
  const cache = new PrintsCache(20);
  cache.set('a', prints(8));
  cache.set('b', prints(8));
  assert.ok(cache.get('a')); // a is now the most recently used
  cache.set('c', prints(8)); // 24 > 20: b goes
  assert.equal(cache.get('b'), undefined);
  assert.ok(cache.get('a') && cache.get('c'));
  cache.set('huge', prints(21)); // larger than the bound: not kept, nothing evicted
  assert.equal(cache.get('huge'), undefined);
  assert.equal(cache.size, 2);
  cache.set('a', null); // read without prints: remembered, weighs 8 like a's old prints
  assert.equal(cache.get('a'), null);
  cache.set('d', prints(4)); // 8 + 8 + 4 = 20: all kept
  assert.equal(cache.size, 3);
  cache.set('e', null); // 28: c (least recently used) goes
  assert.equal(cache.get('c'), undefined);
  assert.equal(cache.size, 3);
});
