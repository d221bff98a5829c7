// Large files hashed on the file hash thread (src/fs/file-hash-client.ts): the same Content
// as a direct computation, errors mapped back to their types with the path, and hashFile
// choosing the thread only for large files on handles with a descriptor.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ChunkParams, chunkAll } from '../../src/fs/chunker.ts';
import { DiskFs } from '../../src/fs/disk.ts';
import { hashOnThread } from '../../src/fs/file-hash-client.ts';
import { ChangedWhileReadingError, digestOf, hashFile, OFFLOAD_MIN } from '../../src/fs/hasher.ts';
import { type FileSystem, FsError, type ReadHandle } from '../../src/fs/types.ts';
import type { Content } from '../../src/proto/types.ts';
import { makeTempDir, removeTree } from '../harness/tmp.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await removeTree(d);
});

async function fileWith(data: Uint8Array): Promise<{ dir: string; name: string; path: string }> {
  const dir = await makeTempDir('file-hash-');
  dirs.push(dir);
  const path = join(dir, 'f.bin');
  writeFileSync(path, data);
  return { dir, name: 'f.bin', path };
}

/** Blocks, digest and size computed directly, as hex for readable diffs. */
function expected(data: Uint8Array, params?: ChunkParams) {
  let start = 0;
  const blocks = chunkAll(data, params).map((end) => {
    const b = {
      offset: start,
      length: end - start,
      hash: createHash('sha256').update(data.subarray(start, end)).digest(),
    };
    start = end;
    return b;
  });
  return norm({ size: data.length, digest: digestOf(blocks), blocks, inlineData: new Uint8Array(0) });
}

function norm(c: Content) {
  return {
    size: c.size,
    digest: Buffer.from(c.digest).toString('hex'),
    blocks: c.blocks.map((b) => `${b.offset}+${b.length}:${Buffer.from(b.hash).toString('hex')}`),
    inline: Buffer.from(c.inlineData).toString('hex'),
  };
}

test('the thread hashes a descriptor to the same Content as a direct computation', async () => {
  const data = randomBytes(OFFLOAD_MIN + 5 * (1 << 20) + 12_345);
  const { path } = await fileWith(data);
  const fd = openSync(path, 'r');
  try {
    const c = await hashOnThread(fd, 'f.bin', data.length, {});
    assert.ok(c.blocks.length > 50);
    assert.deepEqual(norm(c), expected(data));
    // Custom chunk parameters reach the thread.
    const small: ChunkParams = { min: 1024, avg: 4096, max: 16_384 };
    assert.deepEqual(
      norm(await hashOnThread(fd, 'f.bin', data.length, { params: small })),
      expected(data, small),
    );
  } finally {
    closeSync(fd);
  }
});

test('several files at once on the thread keep their blocks apart', async () => {
  const datas = [1, 2, 3].map((i) => randomBytes(OFFLOAD_MIN + i * 300_001));
  const fds = await Promise.all(datas.map(async (d) => openSync((await fileWith(d)).path, 'r')));
  try {
    const got = await Promise.all(fds.map((fd, i) => hashOnThread(fd, `f${i}`, datas[i]!.length, {})));
    for (const [i, c] of got.entries()) assert.deepEqual(norm(c), expected(datas[i]!));
  } finally {
    for (const fd of fds) closeSync(fd);
  }
});

test('a file longer than its size at open fails as changed, naming the path', async () => {
  const data = randomBytes(OFFLOAD_MIN + 4096);
  const { path } = await fileWith(data);
  const fd = openSync(path, 'r');
  try {
    await assert.rejects(hashOnThread(fd, 'dir/f.bin', data.length - 4096, {}), (e: unknown) => {
      assert.ok(e instanceof ChangedWhileReadingError);
      assert.equal(e.code, 'ERR_CHANGED_WHILE_READING');
      assert.equal(e.path, 'dir/f.bin');
      return true;
    });
  } finally {
    closeSync(fd);
  }
});

test('a read error comes back as an FsError for the path, and the thread serves on', async () => {
  const dir = await makeTempDir('file-hash-');
  dirs.push(dir);
  const fd = openSync(dir, 'r'); // read(2) on a directory: EISDIR
  try {
    await assert.rejects(hashOnThread(fd, 'some/dir', OFFLOAD_MIN, {}), (e: unknown) => {
      assert.ok(e instanceof FsError);
      assert.equal(e.code, 'ERR_IO');
      assert.equal(e.path, 'some/dir');
      assert.match(e.message, /^some\/dir: EISDIR/);
      return true;
    });
  } finally {
    closeSync(fd);
  }
  const data = randomBytes(OFFLOAD_MIN + 1);
  const { path } = await fileWith(data);
  const ok = openSync(path, 'r');
  try {
    assert.deepEqual(norm(await hashOnThread(ok, 'f.bin', data.length, {})), expected(data));
  } finally {
    closeSync(ok);
  }
});

test('hashFile on a real folder: thread for large files, same result as in-process', async () => {
  const big = randomBytes(OFFLOAD_MIN + 777_777);
  const { dir, name } = await fileWith(big);
  const fs = new DiskFs(dir);
  const { content, stat } = await hashFile(fs, name);
  assert.deepEqual(norm(content), expected(big));
  assert.equal(stat.size, big.length);
  assert.deepEqual(norm((await hashFile(fs, name, { offload: false })).content), expected(big));
});

/** A DiskFs whose handles count the reads made through them (the descriptor is real). */
function counting(dir: string): { fs: FileSystem; reads: () => number } {
  const real = new DiskFs(dir);
  let n = 0;
  const openRead = async (p: string): Promise<ReadHandle> => {
    const h = await real.openRead(p);
    return {
      fd: h.fd,
      read: (...args) => {
        n++;
        return h.read(...args);
      },
      stat: () => h.stat(),
      close: () => h.close(),
    };
  };
  return { fs: Object.create(real, { openRead: { value: openRead } }), reads: () => n };
}

test('hashFile hands the thread only large files on handles with a descriptor', async () => {
  const big = randomBytes(OFFLOAD_MIN);
  const b = await fileWith(big);
  const onBig = counting(b.dir);
  assert.deepEqual(norm((await hashFile(onBig.fs, b.name)).content), expected(big));
  assert.equal(onBig.reads(), 0, 'the thread reads the descriptor itself');
  assert.deepEqual(norm((await hashFile(onBig.fs, b.name, { offload: false })).content), expected(big));
  assert.ok(onBig.reads() > 0, 'offload: false reads here');
  const small = await fileWith(randomBytes(OFFLOAD_MIN - 1));
  const onSmall = counting(small.dir);
  await hashFile(onSmall.fs, small.name);
  assert.ok(onSmall.reads() > 0, 'a small file is read on the main thread');
});
