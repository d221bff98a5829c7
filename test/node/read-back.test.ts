// The read-back of a received large file: the whole file, in slices with event-loop turns
// between them, and it stops when told to.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiskFs } from '../../src/fs/disk.ts';
import type { FileSystem, ReadHandle } from '../../src/fs/types.ts';
import { readBack, YIELD_BYTES } from '../../src/node/read-back.ts';
import { makeTempDir, removeTree } from '../harness/tmp.ts';

/** A file of `size` bytes whose reads complete in-line, as fd-io's do from the page cache. */
function inLineFs(size: number): Pick<FileSystem, 'openRead'> {
  const handle: ReadHandle = {
    read: (_buf, _offset, length, position) =>
      Promise.resolve(Math.max(0, Math.min(length, size - position))),
    stat: () => Promise.reject(new Error('not used')),
    close: () => Promise.resolve(),
  };
  return { openRead: () => Promise.resolve(handle) };
}

test('reads that complete in-line still leave the event loop a turn per slice', async () => {
  const size = 5 * YIELD_BYTES + 12_345;
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const read = await readBack(inLineFs(size), 'big', () => false);
  done = true;
  assert.equal(read, size);
  // A turn per slice (with none, the whole file was read in one macrotask: 0 turns).
  assert.ok(turns >= 5, `only ${turns} turns of the event loop during the read-back`);
});

test('a file on disk is read back to its end; the read-back stops when told to', async (t) => {
  const dir = await makeTempDir('read-back');
  t.after(() => removeTree(dir));
  const size = 2 * YIELD_BYTES + 777;
  writeFileSync(join(dir, 'big'), Buffer.alloc(size, 1));
  const fs = new DiskFs(dir);
  assert.equal(await readBack(fs, 'big', () => false), size);
  let asked = 0;
  assert.equal(await readBack(fs, 'big', () => ++asked > 3), 3 << 20, 'three 1 MiB reads, then stopped');
});
