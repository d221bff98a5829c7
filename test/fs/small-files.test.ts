// DiskFs.readSmall (the start-up scan's batch reader on a worker thread): the same Content
// and stat as hashFile for every size it answers for, and no answer (null) wherever the
// ordinary path has a rule to apply: too large, not a regular file, a symlink, a FIFO, a
// missing file, a folder reached through a symlink.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DiskFs } from '../../src/fs/disk.ts';
import { INLINE_MAX } from '../../src/fs/hash-pipeline.ts';
import { hashFile, SMALL_FILE_MAX, smallContent } from '../../src/fs/hasher.ts';
import { FsError, type SmallFile } from '../../src/fs/types.ts';
import { makeTempDir, removeTree } from '../harness/tmp.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await removeTree(d);
});

async function tempDir(): Promise<string> {
  const dir = await makeTempDir('small-files-');
  dirs.push(dir);
  return dir;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const norm = (c: {
  size: number;
  digest: Uint8Array;
  blocks: { offset: number; length: number; hash: Uint8Array }[];
  inlineData: Uint8Array;
}) => ({
  size: c.size,
  digest: hex(c.digest),
  blocks: c.blocks.map((b) => `${b.offset}+${b.length}:${hex(b.hash)}`),
  inline: hex(c.inlineData),
});

test('readSmall gives hashFile’s content and stat for every size up to SMALL_FILE_MAX', async () => {
  const root = await tempDir();
  mkdirSync(join(root, 'd/e'), { recursive: true });
  const sizes = [
    0,
    1,
    31,
    INLINE_MAX - 1,
    INLINE_MAX,
    INLINE_MAX + 1,
    4096,
    SMALL_FILE_MAX - 1,
    SMALL_FILE_MAX,
  ];
  const paths: string[] = [];
  sizes.forEach((size, i) => {
    const path = `${['', 'd/', 'd/e/'][i % 3]}f${size}`;
    writeFileSync(join(root, path), randomBytes(size));
    paths.push(path);
  });
  const fs = new DiskFs(root);
  await fs.lstat(''); // the confinement set-up is learnt on first use
  const got = await fs.readSmall(paths, SMALL_FILE_MAX, INLINE_MAX);
  assert.ok(got, 'available on Linux');
  assert.equal(got.length, paths.length);
  for (const [i, path] of paths.entries()) {
    const f: SmallFile | null | undefined = got[i];
    assert.ok(f, `${path} answered`);
    const want = await hashFile(fs, path);
    assert.deepEqual(norm(smallContent(f)), norm(want.content), path);
    assert.deepEqual(f.stat, want.stat, path);
    assert.equal(f.stat.size, sizes[i]);
    assert.equal(
      want.content.blocks.length,
      sizes[i]! > 0 ? 1 : 0,
      `${path}: one block (the batch's premise)`,
    );
  }
});

test('readSmall answers null where the ordinary path must decide, and stays inside the folder', async () => {
  const root = await tempDir();
  const outside = await tempDir();
  writeFileSync(join(outside, 'secret'), 'outside bytes');
  mkdirSync(join(outside, 'in'));
  writeFileSync(join(outside, 'in/secret'), 'outside bytes');
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'ok'), 'fine');
  writeFileSync(join(root, 'big'), randomBytes(SMALL_FILE_MAX + 1));
  writeFileSync(join(root, 'sub/ok'), 'also fine');
  symlinkSync(join(outside, 'secret'), join(root, 'link'));
  symlinkSync(outside, join(root, 'away'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  const fs = new DiskFs(root);
  await fs.lstat('');
  const paths = [
    'ok',
    'big',
    'sub',
    'link',
    'away/secret',
    'away/in/secret',
    'fifo',
    'missing',
    'sub/missing',
    'sub/ok',
  ];
  const got = await fs.readSmall(paths, SMALL_FILE_MAX, INLINE_MAX);
  assert.ok(got);
  assert.deepEqual(
    got.map((f) => (f ? Buffer.from(f.inline).toString() : null)),
    ['fine', null, null, null, null, null, null, null, null, 'also fine'],
  );
  await assert.rejects(
    fs.readSmall(['../x'], SMALL_FILE_MAX, INLINE_MAX),
    (e: unknown) => e instanceof FsError,
  );
  assert.deepEqual(await fs.readSmall([], SMALL_FILE_MAX, INLINE_MAX), []);
});

test('readSmall keeps bytes only up to inlineMax and leaves larger files to their hash', async () => {
  const root = await tempDir();
  const data = randomBytes(3000);
  writeFileSync(join(root, 'f'), data);
  const fs = new DiskFs(root);
  await fs.lstat('');
  const [small] = (await fs.readSmall(['f'], SMALL_FILE_MAX, 4096)) ?? [];
  const [large] = (await fs.readSmall(['f'], SMALL_FILE_MAX, 100)) ?? [];
  assert.equal(hex(small!.inline), hex(data));
  assert.equal(large!.inline.length, 0);
  assert.equal(hex(large!.hash), hex(small!.hash));
});

test('a batch split between the workers answers every file in order, misses where they are', async () => {
  const root = await tempDir();
  for (const d of ['a', 'b', 'c']) mkdirSync(join(root, d));
  // 500 names over three folders (enough for every worker to take a part), every 7th missing
  // and every 11th too large: a part's answers must not shift into another's places.
  const paths: string[] = [];
  const want = new Map<string, Buffer>();
  for (let i = 0; i < 500; i++) {
    const path = `${'abc'[i % 3]}/f${i}`;
    paths.push(path);
    if (i % 7 === 0) continue;
    const data = i % 11 === 0 ? randomBytes(SMALL_FILE_MAX + 1) : randomBytes(i * 5);
    writeFileSync(join(root, path), data);
    if (i % 11 !== 0) want.set(path, data);
  }
  const fs = new DiskFs(root);
  await fs.lstat('');
  const got = await fs.readSmall(paths, SMALL_FILE_MAX, INLINE_MAX);
  assert.ok(got);
  assert.equal(got.length, paths.length);
  for (const [i, path] of paths.entries()) {
    const data = want.get(path);
    const f: SmallFile | null | undefined = got[i];
    if (!data) {
      assert.equal(f, null, `${path}: no answer`);
      continue;
    }
    assert.ok(f, `${path} answered`);
    assert.equal(f.stat.size, data.length, path);
    assert.equal(hex(f.inline), data.length <= INLINE_MAX ? hex(data) : '', path);
    const expected = (await hashFile(fs, path)).content;
    assert.deepEqual(norm(smallContent(f)), norm(expected), path);
  }
});
