// The detector's pure rules (src/node/settle-rules.ts): how long a file that looks still
// written waits, and when a path still shows what was hashed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stat } from '../../src/fs/types.ts';
import {
  EMPTY_QUIET_MS,
  LARGE_NEW_BYTES,
  LARGE_QUIET_MS,
  SCRATCH_QUIET_MS,
  sameObservedStat,
  unstableFor,
} from '../../src/node/settle-rules.ts';
import { blankFileEntry, EntryType, type FileEntry } from '../../src/proto/types.ts';

const NOW = 1_000_000;
const file = (size: number, ageMs: number, kind: Stat['kind'] = 'file'): Stat => ({
  kind,
  size,
  mtimeMs: NOW - ageMs,
  ctimeMs: NOW - ageMs,
  ino: 7,
  mode: 0o644,
});
const entry = (size: number): FileEntry => ({ ...blankFileEntry(), type: EntryType.File, size });

test('an ordinary file, new or changed, is looked at now', () => {
  assert.equal(unstableFor('a/doc.txt', file(100, 0), null, NOW), 0);
  assert.equal(unstableFor('a/doc.txt', file(100, 0), entry(50), NOW), 0);
  assert.equal(unstableFor('a/dir', file(0, 0, 'dir'), null, NOW), 0);
  // A large file the index knows (an edit in place) is not held back.
  assert.equal(unstableFor('big.bin', file(LARGE_NEW_BYTES, 0), entry(1), NOW), 0);
});

test('an emptied or new empty file waits out its quiet time, counted from its mtime', () => {
  assert.equal(unstableFor('x', file(0, 0), null, NOW), EMPTY_QUIET_MS);
  assert.equal(unstableFor('x', file(0, 0), entry(10), NOW), EMPTY_QUIET_MS);
  assert.equal(unstableFor('x', file(0, 150), entry(10), NOW), EMPTY_QUIET_MS - 150);
  assert.equal(unstableFor('x', file(0, EMPTY_QUIET_MS), entry(10), NOW), 0);
  // Already empty in the index: nothing new is being written.
  assert.equal(unstableFor('x', file(0, 0), entry(0), NOW), 0);
});

test('a large new file and a new scratch-named file wait their quiet times', () => {
  assert.equal(unstableFor('big.bin', file(LARGE_NEW_BYTES, 0), null, NOW), LARGE_QUIET_MS);
  assert.equal(unstableFor('big.bin', file(LARGE_NEW_BYTES - 1, 0), null, NOW), 0);
  assert.equal(unstableFor('big.bin', file(LARGE_NEW_BYTES, 40), null, NOW), LARGE_QUIET_MS - 40);
  for (const name of ['d/.doc.swp', 'notes.txt~', '.goutputstream-X'])
    assert.equal(unstableFor(name, file(10, 0), null, NOW), SCRATCH_QUIET_MS, name);
  assert.equal(unstableFor('.hidden', file(10, 0), entry(10), NOW), 0, 'known to the index');
  // An mtime in the future (a coarse or skewed clock) waits no longer than the quiet time.
  assert.equal(unstableFor('.x', file(10, -500), null, NOW), SCRATCH_QUIET_MS);
});

test('a path still shows what was hashed only if nothing of it moved', () => {
  const seen = file(100, 10);
  const obs = { path: 'p', stat: seen, content: null, link: '' };
  assert.ok(sameObservedStat({ ...seen }, obs));
  for (const change of [
    { size: 101 },
    { mtimeMs: seen.mtimeMs + 1 },
    { ctimeMs: 1 },
    { ino: 8 },
    { mode: 0o600 },
  ])
    assert.ok(!sameObservedStat({ ...seen, ...change }, obs), JSON.stringify(change));
  // A folder's ctime moves with its contents: only its other fields count.
  const dir = file(0, 10, 'dir');
  assert.ok(sameObservedStat({ ...dir, ctimeMs: 5 }, { ...obs, stat: dir }));
});
