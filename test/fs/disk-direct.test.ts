// A large temp file on a real folder, written past the page cache (fs/direct-write.ts):
// blocks arriving out of order, some copied from local files, end up byte for byte in the
// committed file, its full chunks went out as direct writes; on tmpfs (which takes O_DIRECT
// only since Linux 6.6, and then straight into the page cache) the file is the same.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CHUNK, DIRECT_MIN, directChunksWritten, stagingAllocated } from '../../src/fs/direct-write.ts';
import { DiskFs } from '../../src/fs/disk.ts';
import { cleanupAll, makeTempDir } from '../harness/tmp.ts';

after(cleanupAll);

/** Write `data` into a temp file in pieces of `piece` bytes, odd pieces first, every third copied. */
async function assemble(fs: DiskFs, name: string, data: Uint8Array, piece: number): Promise<void> {
  const tmp = await fs.createTemp(name, data.length);
  const starts: number[] = [];
  for (let at = 0; at < data.length; at += piece) starts.push(at);
  const order = [...starts.filter((_, i) => i % 2 === 1), ...starts.filter((_, i) => i % 2 === 0)];
  await Promise.all(
    order.map((at, i) => tmp.write(data.subarray(at, Math.min(data.length, at + piece)), at, i % 3 === 2)),
  );
  await tmp.prepare({ mode: 0o644, mtimeMs: 1_700_000_000_000 });
  await tmp.commit(name, { mode: 0o644, mtimeMs: 1_700_000_000_000, expect: null });
}

test('a large file assembled out of order is committed byte for byte, its full chunks written directly', async () => {
  const root = await makeTempDir('direct-');
  const fs = new DiskFs(root);
  const data = randomBytes(DIRECT_MIN + 3 * CHUNK + 777); // an unaligned tail
  const before = directChunksWritten();
  await assemble(fs, 'big.bin', data, 300_000);
  const got = readFileSync(join(root, 'big.bin'));
  assert.equal(got.length, data.length);
  assert.ok(got.equals(data), 'content differs');
  assert.equal(stagingAllocated(), false, 'staging memory let go once no file uses it');
  const direct = directChunksWritten() - before;
  // Every chunk is whole but the tail; copied pieces alone leave a few chunks to the cache.
  assert.ok(direct >= 6, `only ${direct} chunks written directly`);
  assert.deepEqual(
    (await readdir(root)).filter((n) => n !== 'big.bin'),
    [],
    'no temp file left',
  );
});

test('a chunk still staged at prepare is written before the mtime is set (a gap reads as zeros)', async () => {
  const root = await makeTempDir('direct-gap-');
  const fs = new DiskFs(root);
  const data = randomBytes(DIRECT_MIN + CHUNK);
  const gap = 3 * CHUNK + 1000;
  const tmp = await fs.createTemp('g.bin', data.length);
  await tmp.write(data.subarray(0, gap), 0);
  await tmp.write(data.subarray(gap + 100), gap + 100);
  const mtimeMs = 1_600_000_000_000;
  await tmp.prepare({ mode: 0o640, mtimeMs });
  await tmp.commit('g.bin', { mode: 0o640, mtimeMs, expect: null });
  const got = readFileSync(join(root, 'g.bin'));
  const want = Buffer.from(data);
  want.fill(0, gap, gap + 100);
  assert.ok(got.equals(want), 'content differs');
  const st = statSync(join(root, 'g.bin'));
  assert.equal(st.mtimeMs, mtimeMs);
  assert.equal(st.mode & 0o777, 0o640);
});

test('a file below DIRECT_MIN goes through the page cache as before', async () => {
  const root = await makeTempDir('direct-small-');
  const fs = new DiskFs(root);
  const data = randomBytes(DIRECT_MIN - 1);
  const before = directChunksWritten();
  await assemble(fs, 'f.bin', data, 1 << 20);
  assert.ok(readFileSync(join(root, 'f.bin')).equals(data));
  assert.equal(directChunksWritten() - before, 0);
});

const shm = '/dev/shm';
const onTmpfs = existsSync(shm) && statfsSync(shm).type === 0x01021994; // TMPFS_MAGIC
test('on tmpfs, the same file', { skip: !onTmpfs && 'no tmpfs at /dev/shm' }, async () => {
  const root = await mkdtemp(join(shm, 'resonate-direct-'));
  try {
    const fs = new DiskFs(root);
    const data = randomBytes(DIRECT_MIN + CHUNK);
    await assemble(fs, 'big.bin', data, 250_000);
    assert.ok(readFileSync(join(root, 'big.bin')).equals(data));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
