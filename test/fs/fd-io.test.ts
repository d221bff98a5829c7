// FdIo's large reads: in-line while they are fast, on the thread pool after a slow one, and
// the same bytes either way.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FdIo, SLOW_READS, SMALL_IO } from '../../src/fs/fd-io.ts';
import { makeTempDir, removeTree } from '../harness/tmp.ts';

async function readAll(io: FdIo, size: number, piece: number): Promise<Buffer> {
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; ) {
    const n = await io.read(out, at, Math.min(piece, size - at), at);
    assert.ok(n > 0, `read at ${at} returned 0`);
    at += n;
  }
  return out;
}

test('large reads return the file whether made in-line or on the pool', async (t) => {
  const dir = await makeTempDir('fd-io');
  t.after(() => removeTree(dir));
  const path = join(dir, 'f');
  const data = randomBytes(24 * SMALL_IO + 12345);
  writeFileSync(path, data);

  const fast = new FdIo(openSync(path, 'r'), 'f', data.length, Number.POSITIVE_INFINITY);
  assert.deepEqual(await readAll(fast, data.length, 1 << 20), data);
  assert.equal(fast.readsPooled, false, 'no read counted as slow');
  await fast.close();

  // Every large read counts as slow: the first SLOW_READS are made in-line, the rest go to the pool.
  const slow = new FdIo(openSync(path, 'r'), 'f', data.length, -1);
  assert.deepEqual(await readAll(slow, data.length, 1 << 20), data);
  assert.equal(slow.readsPooled, true);
  await slow.close();

  // Fewer slow reads in a row than SLOW_READS (a stall of writeback) keep reads in-line.
  const two = data.subarray(0, 2 * (1 << 20) + 100 * 1024);
  writeFileSync(path, two);
  const stalled = new FdIo(openSync(path, 'r'), 'f', two.length, -1);
  assert.deepEqual(await readAll(stalled, two.length, 1 << 20), two);
  assert.ok(SLOW_READS > 2);
  assert.equal(stalled.readsPooled, false);
  await stalled.close();
});

test('small reads near the end stay in-line and are bounded by SMALL_IO', async (t) => {
  const dir = await makeTempDir('fd-io');
  t.after(() => removeTree(dir));
  const path = join(dir, 'f');
  const data = randomBytes(SMALL_IO + 100);
  writeFileSync(path, data);
  const io = new FdIo(openSync(path, 'r'), 'f', data.length, -1);
  const buf = Buffer.alloc(1 << 20);
  assert.equal(await io.read(buf, 0, buf.length, 200), SMALL_IO - 100);
  assert.deepEqual(buf.subarray(0, SMALL_IO - 100), data.subarray(200));
  assert.equal(io.readsPooled, false, 'a read within SMALL_IO of the end is never large');
  await io.close();
});

test('a large write starts writebacks as it goes and ends with every byte in place', async (t) => {
  const dir = await makeTempDir('fd-io');
  t.after(() => removeTree(dir));
  const path = join(dir, 'f');
  const data = randomBytes(3 * SMALL_IO + 4 * (1 << 20) + 777);
  // A writeback each 300 KiB: both in-line (small) and pooled (large) writes count.
  const io = new FdIo(openSync(path, 'w'), 'f', 0, Number.POSITIVE_INFINITY, 300 * 1024);
  const pieces = [100 * 1024, 200 * 1024, SMALL_IO, 1 << 20, 3 << 20, 1 << 20];
  let at = 0;
  for (const n of pieces) {
    const end = Math.min(at + n, data.length);
    await io.write(data.subarray(at, end), at);
    at = end;
  }
  await io.write(data.subarray(at), at);
  await io.fsync();
  assert.ok(io.writebacks >= 1, `writebacks started: ${io.writebacks}`);
  await io.close();
  assert.deepEqual(readFileSync(path), data);

  const small = new FdIo(openSync(path, 'w'), 'f', 0);
  await small.write(data.subarray(0, SMALL_IO), 0);
  await small.fsync();
  assert.equal(small.writebacks, 0, 'a file below WRITEBACK_BYTES is synced once, at the end');
  await small.close();
});
