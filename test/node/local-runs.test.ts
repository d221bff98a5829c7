// Assembling a new version from the old one on disk: blocks the old file holds back to back,
// trusted through its index entry, are read as one run; if the file changes under the run,
// every block of it is verified one by one instead, and nothing unverified is written.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TempFile } from '../../src/fs/types.ts';
import { type BlockFetcher, ContentAssembler, sha256 } from '../../src/node/content.ts';
import { LocalBlocks } from '../../src/node/local-blocks.ts';
import type { Block, Content } from '../../src/proto/types.ts';
import { realEnv } from '../../src/util/env.ts';
import { cleanupAll } from '../harness/tmp.ts';
import { indexedFolder, indexFile } from './indexed-folder.ts';

after(cleanupAll);

/** 4 KiB blocks, except that one ends at each offset in `cuts` (up to 8 KiB long then). */
function contentOf(data: Uint8Array, cuts: number[] = []): Content {
  const blocks: Block[] = [];
  let off = 0;
  while (off < data.length) {
    const cut = cuts.find((c) => c > off && c <= off + 8192);
    const end = Math.min(cut ?? off + 4096, data.length);
    const part = data.subarray(off, end);
    blocks.push({ offset: off, length: part.length, hash: sha256(part) });
    off = end;
  }
  return { size: data.length, digest: sha256(data), blocks, inlineData: new Uint8Array() };
}

function memoryTemp(size: number): TempFile & { bytes: Uint8Array; writes: number[] } {
  const bytes = new Uint8Array(size);
  const writes: number[] = [];
  return {
    path: '.resonate-tmp-test',
    bytes,
    writes,
    async write(data: Uint8Array, position: number) {
      writes.push(data.length);
      bytes.set(data, position);
    },
    async prepare() {},
    async commit() {
      throw new Error('not used');
    },
    async abort() {},
  };
}

/** A peer that has every block of `data` (and counts the blocks it was asked for). */
function peerWith(data: Uint8Array): BlockFetcher & { asked: number } {
  const find = (block: Block) => {
    for (let off = 0; off + block.length <= data.length; off++) {
      const part = data.subarray(off, off + block.length);
      if (sha256(part).equals(block.hash)) return part;
    }
    return null;
  };
  const p = {
    asked: 0,
    async fetch(block: Block) {
      p.asked++;
      return find(block);
    },
    async fetchRun(blocks: readonly Block[]) {
      p.asked += blocks.length;
      const parts = blocks.map(find);
      return parts.every((x) => x !== null) ? Buffer.concat(parts as Uint8Array[]) : null;
    },
  };
  return p;
}

async function setup(old: Uint8Array) {
  const { root, fs, store } = await indexedFolder('resonate-runs-', { f: old });
  await indexFile(fs, store, 'f', contentOf(old));
  return { root, fs, store, local: new LocalBlocks(fs, store, realEnv) };
}

test('an insertion at the front: the rest comes from the old file in runs, not per block', async () => {
  const old = randomBytes(3 * 1024 * 1024 + 123);
  const { local } = await setup(old);
  try {
    const next = Buffer.concat([Buffer.from([7]), old]);
    // The first block ends right after the new byte; from there the old blocks follow.
    const content = contentOf(next, [4097]);
    const tmp = memoryTemp(next.length);
    const peer = peerWith(next);
    const stats = await new ContentAssembler(local, peer).fill(tmp, 'f', content, ['f']);
    assert.ok(Buffer.from(tmp.bytes).equals(next), 'the assembled bytes are the new version');
    assert.equal(peer.asked, 1, 'only the new first block is fetched');
    assert.equal(stats.localBytes, next.length - 4097);
    assert.ok(tmp.writes.length <= 6, `a few large writes, not one per block (${tmp.writes.length})`);
  } finally {
    local.close();
  }
});

test('a file changed under a run: its blocks are verified one by one', async () => {
  const old = randomBytes(64 * 1024);
  const { root, local } = await setup(old);
  try {
    const content = contentOf(old);
    const run = await local.trustedRun(content.blocks, 0, ['f'], 1 << 20);
    assert.deepEqual(run && { at: run.at, count: run.count, bytes: run.bytes }, {
      at: 0,
      count: 16,
      bytes: 64 * 1024,
    });
    // Rewritten in place with other bytes (same size): the run must not be trusted now.
    const other = randomBytes(64 * 1024);
    writeFileSync(join(root, 'f'), other);
    const buf = new Uint8Array(run!.bytes);
    assert.equal(await local.readRun(run!, buf), false);
    const tmp = memoryTemp(old.length);
    const peer = peerWith(old);
    await new ContentAssembler(local, peer).fill(tmp, 'f', content, ['f']);
    assert.ok(Buffer.from(tmp.bytes).equals(old), 'the version asked for, not the changed file');
    assert.equal(peer.asked, 16, 'every block came from the peer');
  } finally {
    local.close();
  }
});

test('a run is read only through the open file that vouched for it, not one opened since', async () => {
  const old = randomBytes(64 * 1024);
  const { root, fs, store, local } = await setup(old);
  try {
    const content = contentOf(old);
    const run = await local.trustedRun(content.blocks, 0, ['f'], 1 << 20);
    assert.equal(run?.count, 16);
    // Rewritten and recorded meanwhile, and opened again by another read that noticed.
    const other = randomBytes(64 * 1024);
    writeFileSync(join(root, 'f'), other);
    await indexFile(fs, store, 'f', contentOf(other));
    assert.equal(await local.read(content.blocks[0]!, ['f']), null, 'the old block is gone');
    assert.ok(await local.trustedRun(contentOf(other).blocks, 0, ['f'], 1 << 20), 'the new file is open');
    // The run was vouched for by the old entry: its offsets say nothing about the new bytes.
    const buf = new Uint8Array(run!.bytes);
    assert.equal(await local.readRun(run!, buf), false);
  } finally {
    local.close();
  }
});

test('blocks the old file does not hold in order are not a run', async () => {
  const old = randomBytes(32 * 1024);
  const { local } = await setup(old);
  try {
    const c = contentOf(old);
    // Swap two halves: each block is still trusted, but not back to back.
    const swapped = Buffer.concat([old.subarray(16 * 1024), old.subarray(0, 16 * 1024)]);
    const content = contentOf(swapped);
    const run = await local.trustedRun(content.blocks, 0, ['f'], 1 << 20);
    assert.equal(run?.count, 4, 'the run ends where the old file does not continue');
    assert.equal(run?.at, 16 * 1024);
    const tmp = memoryTemp(swapped.length);
    await new ContentAssembler(local, peerWith(swapped)).fill(tmp, 'f', content, ['f']);
    assert.ok(Buffer.from(tmp.bytes).equals(swapped));
    assert.equal(c.blocks.length, 8);
  } finally {
    local.close();
  }
});

test('open files are kept in order of use: the least recently used one is closed first', async () => {
  const data = Array.from({ length: 33 }, () => randomBytes(4096));
  const { fs, store } = await indexedFolder(
    'resonate-lru-',
    Object.fromEntries(data.map((d, i) => [`f${i}`, d])),
  );
  const opened: string[] = [];
  const openRead = fs.openRead.bind(fs);
  fs.openRead = (p: string) => {
    opened.push(p);
    return openRead(p);
  };
  const local = new LocalBlocks(fs, store, realEnv);
  const read = async (i: number) => {
    const block = { offset: 0, length: 4096, hash: sha256(data[i]!) };
    const got = await local.read(block, [`f${i}`]);
    assert.ok(got && Buffer.from(got).equals(data[i]!), `f${i} read back`);
  };
  try {
    for (let i = 0; i < 32; i++) await read(i); // as many as stay open
    await read(0); // used again: now the most recent
    await read(32); // one more: the least recently used (f1) is closed, not f0
    assert.equal(opened.length, 33);
    await read(0);
    assert.equal(opened.length, 33, 'f0 is still open');
    await read(1);
    assert.deepEqual(opened.slice(33), ['f1'], 'f1 was closed and is opened again');
  } finally {
    local.close();
  }
});
