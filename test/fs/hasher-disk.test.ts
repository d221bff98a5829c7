// hashFile on a real folder (DiskFs): the same Content as a direct computation, and file data
// read into its buffers at READ_SKEW (reads at offset 0 of a large allocation hit a slow copy
// in the kernel on this kind of machine: bench/notes/chunking.md).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chunkAll } from '../../src/fs/chunker.ts';
import { DiskFs } from '../../src/fs/disk.ts';
import { digestOf, OFFLOAD_MIN, READ_BUFFER, READ_SKEW } from '../../src/fs/hash-pipeline.ts';
import { ChangedWhileReadingError, hashFile } from '../../src/fs/hasher.ts';
import type { FileSystem, ReadHandle } from '../../src/fs/types.ts';
import { slotsFree } from '../../src/fs/wasm/gear.ts';
import type { Content } from '../../src/proto/types.ts';
import { makeTempDir, removeTree } from '../harness/tmp.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await removeTree(d);
});

async function folderWith(data: Uint8Array): Promise<string> {
  const dir = await makeTempDir('hasher-disk-');
  dirs.push(dir);
  writeFileSync(join(dir, 'f.bin'), data);
  return dir;
}

function norm(c: Content) {
  return {
    size: c.size,
    digest: Buffer.from(c.digest).toString('hex'),
    blocks: c.blocks.map((b) => `${b.offset}+${b.length}:${Buffer.from(b.hash).toString('hex')}`),
    inline: Buffer.from(c.inlineData).toString('hex'),
  };
}

function expected(data: Uint8Array) {
  let start = 0;
  const blocks = chunkAll(data).map((end) => {
    const hash = createHash('sha256').update(data.subarray(start, end)).digest();
    const b = { offset: start, length: end - start, hash };
    start = end;
    return b;
  });
  return norm({ size: data.length, digest: digestOf(blocks), blocks, inlineData: new Uint8Array(0) });
}

test('hashFile on a real folder matches a direct computation, offloaded or not', async () => {
  const data = randomBytes(OFFLOAD_MIN + 3 * READ_BUFFER + 777_777);
  const fs = new DiskFs(await folderWith(data));
  const { content, stat } = await hashFile(fs, 'f.bin');
  assert.ok(content.blocks.length > 50);
  assert.deepEqual(norm(content), expected(data));
  assert.equal(stat.size, data.length);
  assert.deepEqual(norm((await hashFile(fs, 'f.bin', { offload: false })).content), expected(data));
});

test('file data lands READ_SKEW bytes into each read buffer', async () => {
  const data = randomBytes(OFFLOAD_MIN + 2 * READ_BUFFER);
  const real = new DiskFs(await folderWith(data));
  const starts: number[] = [];
  const openRead = async (p: string): Promise<ReadHandle> => {
    const h = await real.openRead(p);
    return {
      read: (buf, offset, length, position) => {
        starts.push(buf.byteOffset + offset);
        return h.read(buf, offset, length, position);
      },
      stat: () => h.stat(),
      close: () => h.close(),
    };
  };
  const fs: FileSystem = Object.create(real, { openRead: { value: openRead } });
  assert.deepEqual(norm((await hashFile(fs, 'f.bin')).content), expected(data));
  assert.ok(starts.length >= 4);
  // Into a slot of the wasm memory or an ArrayBuffer of its own: READ_SKEW past a page start.
  assert.deepEqual(new Set(starts.map((s) => s % 4096)), new Set([READ_SKEW]));
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('files smaller than a read buffer, read into slots or buffers of their own, hash right', async () => {
  const before = slotsFree();
  for (const size of [0, 1, 1000, 16 * 1024, 16 * 1024 + 1, 300_000, READ_BUFFER - 1, READ_BUFFER + 1]) {
    const data = randomBytes(size);
    const fs = new DiskFs(await folderWith(data));
    const { content } = await hashFile(fs, 'f.bin');
    const want = expected(data);
    assert.deepEqual({ ...norm(content), inline: '' }, { ...want, inline: '' }, `size ${size}`);
  }
  await until(() => slotsFree() === before, 'the slots of small files');
});

test('every read buffer taken from the shared memory is given back, also when a hash fails', async () => {
  const data = randomBytes(OFFLOAD_MIN + 6 * READ_BUFFER + 12345);
  const real = new DiskFs(await folderWith(data));
  const before = slotsFree();
  const runs = await Promise.all([hashFile(real, 'f.bin'), hashFile(real, 'f.bin'), hashFile(real, 'f.bin')]);
  for (const r of runs) assert.deepEqual(norm(r.content), expected(data));
  await until(() => slotsFree() === before, 'the slots of three hashes');
  // A file that changes while it is read: the hash stops with buffers at the worker.
  let reads = 0;
  let fewest = before;
  const openRead = async (p: string): Promise<ReadHandle> => {
    const h = await real.openRead(p);
    return {
      read: (buf, offset, length, position) => {
        fewest = Math.min(fewest, slotsFree());
        if (++reads === 6) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        return h.read(buf, offset, length, position);
      },
      stat: async () => ({ ...(await h.stat()), mtimeMs: reads }),
      close: () => h.close(),
    };
  };
  const failing: FileSystem = Object.create(real, { openRead: { value: openRead } });
  await assert.rejects(hashFile(failing, 'f.bin'));
  reads = 100;
  await assert.rejects(hashFile(failing, 'f.bin'), ChangedWhileReadingError);
  await until(() => slotsFree() === before, 'the slots of two failed hashes');
  assert.ok(fewest <= before - 3, `slots were in use (fewest free ${fewest} of ${before})`);
});
