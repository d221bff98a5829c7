import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ChunkParams, chunkAll, DEFAULT_CHUNK_PARAMS } from '../../src/fs/chunker.ts';
import { digestOf, INLINE_MAX, OFFLOAD_MIN, READ_BUFFER } from '../../src/fs/hash-pipeline.ts';
import {
  ChangedWhileReadingError,
  hashFile,
  hashStream,
  readBlock,
  verifyBlock,
} from '../../src/fs/hasher.ts';
import type { FileSystem, ReadHandle, Stat } from '../../src/fs/types.ts';
import type { Content } from '../../src/proto/types.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const SMALL: ChunkParams = { min: 64, avg: 256, max: 1024 };

async function* split(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let o = 0;
  for (let i = 0; o < data.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length]! : data.length);
    yield data.subarray(o, o + n);
    o += n;
  }
}

/** Content computed directly from the whole buffer, for comparison. */
function expected(data: Uint8Array, params = DEFAULT_CHUNK_PARAMS, inlineMax = INLINE_MAX): Content {
  let start = 0;
  const blocks = chunkAll(data, params).map((end) => {
    const b = { offset: start, length: end - start, hash: sha(data.subarray(start, end)) };
    start = end;
    return b;
  });
  const digest = sha(Buffer.concat(blocks.map((b) => b.hash)));
  const inlineData = data.length <= inlineMax ? data : new Uint8Array(0);
  return { size: data.length, digest, blocks, inlineData };
}

function same(actual: Content, want: Content): void {
  const norm = (c: Content) => ({
    size: c.size,
    digest: Buffer.from(c.digest).toString('hex'),
    blocks: c.blocks.map((b) => [b.offset, b.length, Buffer.from(b.hash).toString('hex')]),
    inline: Buffer.from(c.inlineData).toString('hex'),
  });
  assert.deepEqual(norm(actual), norm(want));
}

interface MemFile {
  data: Uint8Array;
  mtimeMs: number;
  ctimeMs: number;
}

/** An in-memory FileSystem with just enough for the hasher; onRead lets a test meddle. */
function memFs(files: Map<string, MemFile>, onRead?: (path: string, reads: number) => void): FileSystem {
  const unsupported = () => Promise.reject(new Error('not in this fake'));
  const statOf = (f: MemFile): Stat => ({
    kind: 'file',
    size: f.data.length,
    mtimeMs: f.mtimeMs,
    ctimeMs: f.ctimeMs,
    ino: 1,
    mode: 0o644,
  });
  return {
    root: '/mem',
    async openRead(path): Promise<ReadHandle> {
      const f = files.get(path);
      if (!f) throw new Error(`no file ${path}`);
      let reads = 0;
      return {
        async read(buf, offset, length, position) {
          onRead?.(path, ++reads);
          const part = f.data.subarray(position, position + length);
          buf.set(part, offset);
          return part.length;
        },
        stat: async () => statOf(f),
        close: async () => {},
      };
    },
    lstat: async (path) => {
      const f = files.get(path);
      return f ? statOf(f) : null;
    },
    readdir: unsupported,
    readdirStat: unsupported,
    readlink: unsupported,
    createTemp: unsupported,
    mkdir: unsupported,
    rmdir: unsupported,
    unlink: unsupported,
    rename: unsupported,
    symlink: unsupported,
    chmod: unsupported,
    utimes: unsupported,
    fsyncDir: unsupported,
  };
}

test('digestOf is SHA-256 over the concatenated block hashes', () => {
  assert.deepEqual(Buffer.from(digestOf([])), sha(new Uint8Array(0)));
  const blocks = [0, 1, 2].map((i) => ({ offset: i * 10, length: 10, hash: sha(Buffer.from([i])) }));
  assert.deepEqual(Buffer.from(digestOf(blocks)), sha(Buffer.concat(blocks.map((b) => b.hash))));
});

test('hashStream matches a direct computation, however the stream is split', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 20_000 }),
      fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 8 }),
      async (data, sizes) => {
        same(await hashStream(split(data, sizes), { params: SMALL }), expected(data, SMALL));
      },
    ),
    { numRuns: 100 },
  );
});

test('large streams (hashed on the worker thread) match too', async () => {
  for (const size of [OFFLOAD_MIN, 3 * READ_BUFFER + 12_345, 7 << 20]) {
    const data = randomBytes(size);
    same(await hashStream(split(data, [READ_BUFFER, 333_333, 5_000_000])), expected(data));
  }
  const data = randomBytes(5 << 20);
  same(await hashStream(split(data, [READ_BUFFER]), { offload: false }), expected(data));
});

test('concurrent streams share the worker without mixing their blocks', async () => {
  const inputs = [1, 2, 3].map((i) => randomBytes(OFFLOAD_MIN + i * 700_001));
  const results = await Promise.all(inputs.map((d, i) => hashStream(split(d, [READ_BUFFER - i * 1000]))));
  results.forEach((c, i) => {
    same(c, expected(inputs[i]!));
  });
});

test('small files carry their bytes inline; the threshold is inclusive', async () => {
  for (const size of [1, 100, INLINE_MAX]) {
    const data = randomBytes(size);
    const c = await hashStream(split(data, [7]));
    assert.deepEqual(Buffer.from(c.inlineData), data);
    assert.equal(c.blocks.length, 1, 'small files still list their block');
    same(c, expected(data));
  }
  const over = await hashStream(split(randomBytes(INLINE_MAX + 1), []));
  assert.equal(over.inlineData.length, 0);
  const custom = await hashStream(split(randomBytes(5000), []), { inlineMax: 5000 });
  assert.equal(custom.inlineData.length, 5000);
  await assert.rejects(hashStream(split(randomBytes(10), []), { inlineMax: -1 }), RangeError);
});

test('an empty stream has no blocks and the digest of nothing', async () => {
  const c = await hashStream(split(new Uint8Array(0), []));
  assert.equal(c.size, 0);
  assert.deepEqual(c.blocks, []);
  assert.deepEqual(Buffer.from(c.digest), sha(new Uint8Array(0)));
  assert.equal(c.inlineData.length, 0);
});

test('a failing source rejects, and the hasher keeps working', async () => {
  const data = randomBytes(OFFLOAD_MIN + 3 * READ_BUFFER);
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield* split(data.subarray(0, OFFLOAD_MIN + 2 * READ_BUFFER), [READ_BUFFER]);
    throw new Error('disk on fire');
  }
  await assert.rejects(hashStream(broken()), /disk on fire/);
  same(await hashStream(split(data, [READ_BUFFER])), expected(data));
});

test('hashFile agrees with hashStream and returns the stat taken at open', async () => {
  const files = new Map<string, MemFile>();
  for (const [name, size] of [
    ['empty', 0],
    ['tiny', 10],
    ['mid', 300_000],
    ['big', 5 * READ_BUFFER + 77],
  ] as const) {
    files.set(name, { data: randomBytes(size), mtimeMs: 1000.5, ctimeMs: 2000.25 });
  }
  const fs = memFs(files);
  for (const [name, f] of files) {
    const { content, stat } = await hashFile(fs, name);
    same(content, await hashStream(split(f.data, [4096])));
    same(content, expected(f.data));
    assert.deepEqual(stat, {
      kind: 'file',
      size: f.data.length,
      mtimeMs: 1000.5,
      ctimeMs: 2000.25,
      ino: 1,
      mode: 0o644,
    });
  }
});

test('a file modified while it is read fails with ERR_CHANGED_WHILE_READING', async () => {
  const cases: [string, (f: MemFile) => void][] = [
    ['grows', (f) => Object.assign(f, { data: Buffer.concat([f.data, Buffer.from('more')]) })],
    ['shrinks', (f) => Object.assign(f, { data: f.data.subarray(0, f.data.length >> 1) })],
    ['mtime', (f) => Object.assign(f, { mtimeMs: f.mtimeMs + 1 })],
    ['ctime', (f) => Object.assign(f, { ctimeMs: f.ctimeMs + 0.001 })],
  ];
  for (const [name, change] of cases) {
    for (const size of [100, 3 * READ_BUFFER]) {
      const f: MemFile = { data: randomBytes(size), mtimeMs: 5, ctimeMs: 6 };
      const fs = memFs(new Map([[`dir/${name}`, f]]), (_, reads) => {
        if (reads === 1) change(f);
      });
      await assert.rejects(hashFile(fs, `dir/${name}`), (e: unknown) => {
        assert.ok(e instanceof ChangedWhileReadingError);
        assert.equal(e.code, 'ERR_CHANGED_WHILE_READING');
        assert.equal(e.path, `dir/${name}`);
        return true;
      });
    }
  }
});

test('readBlock reads a listed block back; verifyBlock checks it', async () => {
  const data = randomBytes(200_000);
  const fs = memFs(new Map([['f', { data, mtimeMs: 1, ctimeMs: 1 }]]));
  const { content } = await hashFile(fs, 'f', { params: { min: 4096, avg: 16384, max: 65536 } });
  assert.ok(content.blocks.length > 3);
  for (const b of content.blocks) {
    const got = await readBlock(fs, 'f', b.offset, b.length);
    assert.deepEqual(Buffer.from(got), data.subarray(b.offset, b.offset + b.length));
    assert.ok(verifyBlock(got, b.hash));
  }
  const b = content.blocks[1]!;
  const tampered = Uint8Array.from(await readBlock(fs, 'f', b.offset, b.length));
  tampered[0]! ^= 1;
  assert.equal(verifyBlock(tampered, b.hash), false);
  assert.equal(verifyBlock(data.subarray(0, 0), new Uint8Array(5)), false);
  const short = await readBlock(fs, 'f', data.length - 10, 100);
  assert.deepEqual(Buffer.from(short), data.subarray(data.length - 10));
});
