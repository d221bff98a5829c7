// Serving blocks to peers: one block by its hash, or a run of blocks in one reply, and a run
// only where this node's own index lists every block of it, back to back, in a file whose
// stat has not changed: a peer gets nothing it could not name by hash, and nothing from a
// file this node does not sync.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { FileSystem } from '../../src/fs/types.ts';
import { BlockServer } from '../../src/node/block-server.ts';
import { sha256 } from '../../src/node/content.ts';
import { LocalBlocks } from '../../src/node/local-blocks.ts';
import { decodeFrame } from '../../src/proto/codec.ts';
import type { Block, BlockRequest, Content } from '../../src/proto/types.ts';
import { realEnv } from '../../src/util/env.ts';
import { cleanupAll } from '../harness/tmp.ts';
import { indexedFolder, indexFile } from './indexed-folder.ts';

after(cleanupAll);

const BLOCK = 4096;

function blocksOf(data: Uint8Array): Block[] {
  const out: Block[] = [];
  for (let off = 0; off < data.length; off += BLOCK) {
    const part = data.subarray(off, Math.min(off + BLOCK, data.length));
    out.push({ offset: off, length: part.length, hash: sha256(part) });
  }
  return out;
}

/** A folder with `f` (indexed, 16 blocks) and `unsynced` (same bytes, no index entry). */
async function setup() {
  const data = randomBytes(16 * BLOCK);
  const { root, fs, store } = await indexedFolder('resonate-serve-', { f: data, unsynced: data });
  const blocks = blocksOf(data);
  await indexFile(fs, store, 'f', contentOf(data, blocks));
  const local = new LocalBlocks(fs, store, realEnv);
  return { root, fs, store, data, blocks, local, server: new BlockServer(local, realEnv) };
}

function contentOf(data: Uint8Array, blocks: Block[]): Content {
  return { size: data.length, digest: sha256(data), blocks, inlineData: new Uint8Array() };
}

function runRequest(blocks: Block[], path = 'f', id = 7): BlockRequest {
  return {
    id,
    hash: Buffer.concat(blocks.map((b) => b.hash)),
    pathHint: path,
    offsetHint: blocks[0]!.offset,
    length: blocks.reduce((n, b) => n + b.length, 0),
    runLengths: blocks.map((b) => b.length),
  };
}

async function reply(server: BlockServer, req: BlockRequest) {
  const f = decodeFrame(await server.serve(req));
  assert.ok('blockReply' in f);
  assert.equal(f.blockReply.id, req.id);
  return f.blockReply;
}

test('a run the index vouches for is served in one reply; anything else is missing', async () => {
  const { root, data, blocks, local, server } = await setup();
  try {
    const run = blocks.slice(3, 11);
    const ok = await reply(server, runRequest(run));
    assert.equal(ok.missing, false);
    assert.ok(Buffer.from(ok.data).equals(data.subarray(3 * BLOCK, 11 * BLOCK)), 'the run, in order');

    const missing = async (req: BlockRequest, why: string) => {
      const r = await reply(server, req);
      assert.equal(r.missing, true, why);
      assert.equal(r.data.length, 0, why);
    };
    // Right bytes, wrong description: each is refused.
    await missing({ ...runRequest(run), length: 8 * BLOCK + 1 }, 'lengths that do not add up');
    await missing({ ...runRequest(run), runLengths: [...run.map((b) => b.length), 0] }, 'one hash short');
    await missing(runRequest([run[0]!, run[2]!]), 'blocks not back to back');
    await missing(runRequest(run.slice(0, 1)), 'a run of one');
    const forged = runRequest(run);
    forged.hash = Buffer.from(forged.hash);
    forged.hash[40]! ^= 1;
    await missing(forged, 'a hash that is not the block there');
    // The same bytes in a file this node has no index entry for (not synced, ignored).
    await missing(runRequest(run, 'unsynced'), 'a file not in the index');
    await missing(runRequest(run, '../f'), 'a path outside the folder');
    // The file changed since it was indexed (same size, new bytes): not served as a run.
    writeFileSync(join(root, 'f'), randomBytes(data.length));
    local.close();
    await missing(runRequest(run), 'a file changed since it was indexed');
  } finally {
    local.close();
  }
});

test('one block is still served by its hash', async () => {
  const { data, blocks, local, server } = await setup();
  try {
    const b = blocks[5]!;
    const r = await reply(server, { ...runRequest([b]), runLengths: [] });
    assert.equal(r.missing, false);
    assert.ok(Buffer.from(r.data).equals(data.subarray(5 * BLOCK, 6 * BLOCK)));
  } finally {
    local.close();
  }
});

// Edited in place, or saved the way editors save (a new file renamed over it), and the edit
// recorded, while the file is still open from an earlier reply.
const edits: [string, (root: string, next: Uint8Array) => void][] = [
  ['edited in place', (root, next) => writeFileSync(join(root, 'f'), next)],
  [
    'replaced through a temp file',
    (root, next) => {
      writeFileSync(join(root, 'f.new'), next);
      renameSync(join(root, 'f.new'), join(root, 'f'));
    },
  ],
];
for (const [how, edit] of edits) {
  test(`a file open for serving and then ${how} is judged by its newest index entry`, async () => {
    const { root, fs, store, blocks, local, server } = await setup();
    try {
      assert.equal((await reply(server, runRequest(blocks.slice(0, 4)))).missing, false);
      const next = randomBytes(16 * BLOCK);
      edit(root, next);
      const nextBlocks = blocksOf(next);
      await indexFile(fs, store, 'f', contentOf(next, nextBlocks));
      const run = await reply(server, runRequest(nextBlocks.slice(4, 12)));
      assert.equal(run.missing, false, 'the new blocks are served as a run');
      assert.ok(Buffer.from(run.data).equals(next.subarray(4 * BLOCK, 12 * BLOCK)));
      const one = await reply(server, { ...runRequest([nextBlocks[13]!]), runLengths: [] });
      assert.equal(one.missing, false, 'and one by one');
      assert.ok(Buffer.from(one.data).equals(next.subarray(13 * BLOCK, 14 * BLOCK)));
    } finally {
      local.close();
    }
  });
}

test('blocks asked for side by side while their file changes are each served', async () => {
  const { root, fs, store, blocks } = await setup();
  // Reads that wait a turn (as those on the thread pool do, from a cold file): several are
  // under way when the first of them finds the file changed and lets its handle go.
  const slowFs: FileSystem = Object.create(fs);
  slowFs.openRead = async (path) => {
    const h = await fs.openRead(path);
    return {
      read: async (...a) => {
        await new Promise((r) => setImmediate(r));
        return h.read(...a);
      },
      stat: () => h.stat(),
      close: () => h.close(),
    };
  };
  const local = new LocalBlocks(slowFs, store, realEnv);
  const server = new BlockServer(local, realEnv);
  try {
    assert.equal((await reply(server, runRequest(blocks.slice(0, 4)))).missing, false);
    // Edited in place, not recorded yet.
    const next = randomBytes(16 * BLOCK);
    writeFileSync(join(root, 'f'), next);
    const nextBlocks = blocksOf(next);
    const replies = await Promise.all(
      nextBlocks.map((b, i) => reply(server, { ...runRequest([b], 'f', 100 + i), runLengths: [] })),
    );
    replies.forEach((r, i) => {
      assert.equal(r.missing, false, `block ${i}`);
      assert.ok(Buffer.from(r.data).equals(next.subarray(i * BLOCK, (i + 1) * BLOCK)));
    });
  } finally {
    local.close();
  }
});
