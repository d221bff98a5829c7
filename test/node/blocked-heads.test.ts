// Heads blocked by a local change (src/node/blocked-heads.ts): which heads wait for which
// paths, when they are released, and when one blocked too often is handed back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockedHeads, MAX_REBLOCKS } from '../../src/node/blocked-heads.ts';
import type { Action } from '../../src/node/plan.ts';
import { blankFileEntry, type Version } from '../../src/proto/types.ts';

const version = {} as Version;
const write = (path: string, headPath = path): Action => ({
  kind: 'write',
  path,
  headPath,
  version,
  expect: null,
});
const move = (from: string, to: string, source: string, head: string): Action => ({
  kind: 'move',
  from,
  to,
  headPath: head,
  version,
  expect: { ...blankFileEntry(), headPath: source },
  expectTo: null,
});

test('a head whose path changed waits for the changed paths at, above or below it, until they are settled', () => {
  const b = new BlockedHeads();
  const parked = b.afterRound([write('a/x'), write('b/y'), write('c')], ['a/x', 'a', 'b/z', 'c', 'c/d']);
  assert.deepEqual(parked, []);
  // b/y itself did not change (b/z is beside it): only a/x and c wait.
  assert.equal(b.size, 2);
  const pending = new Set(['a', 'c/d']);
  assert.deepEqual(
    b.release((p) => pending.has(p)),
    [],
  );
  pending.delete('a');
  assert.deepEqual(
    b.release((p) => pending.has(p)),
    ['a/x'],
  );
  pending.clear();
  assert.deepEqual(
    b.release((p) => pending.has(p)),
    ['c'],
  );
  assert.equal(b.size, 0);
});

test('a move blocks both its heads when its source or target changed', () => {
  const b = new BlockedHeads();
  b.afterRound([move('old', 'new', 'old', 'new')], ['new']);
  assert.deepEqual(b.release(() => false).sort(), ['new', 'old']);
});

test('a head blocked again and again without a clean round is handed back; a clean round resets it', () => {
  const b = new BlockedHeads();
  for (let i = 0; i < MAX_REBLOCKS; i++) {
    assert.deepEqual(b.afterRound([write('f')], ['f']), [], `round ${i + 1}`);
    assert.deepEqual(
      b.release(() => false),
      ['f'],
    );
  }
  assert.deepEqual(b.afterRound([write('f')], ['f']), ['f']);
  assert.equal(b.size, 0, 'handed back, not waiting');
  // A clean round for it starts the count again.
  b.afterRound([write('f')], []);
  for (let i = 0; i < MAX_REBLOCKS; i++) {
    assert.deepEqual(b.afterRound([write('f')], ['f']), []);
    b.release(() => false);
  }
});
