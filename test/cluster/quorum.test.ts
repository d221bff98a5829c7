import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  acceptors,
  committedPrefix,
  type MemberView,
  quorumSize,
  refusalKey,
  uncommittedCount,
  versionCommitted,
} from '../../src/cluster/quorum.ts';

test('quorum is a strict majority', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(quorumSize), [1, 2, 2, 3, 3, 4, 4]);
});

const member = (nodeId: string, vv: Record<string, number>, refused: string[] = []): MemberView => ({
  nodeId,
  logClock: { vv, except: [] },
  refused: new Set(refused),
});

test('a version is committed when a majority holds it and none of them refused it', () => {
  const dot = { origin: 'a~1', seq: 3 };
  const ms = [member('a', { 'a~1': 3 }), member('b', { 'a~1': 5 }), member('c', { 'a~1': 2 })];
  assert.equal(acceptors(ms, dot, 'p'), 2);
  assert.equal(versionCommitted(ms, 3, dot, 'p'), true);
  ms[1] = member('b', { 'a~1': 5 }, [refusalKey(dot, 'p')]);
  assert.equal(versionCommitted(ms, 3, dot, 'p'), false);
  assert.equal(versionCommitted(ms, 3, dot, 'other-path'), true, 'refusals are per path');
});

test('committed prefix and uncommitted count', () => {
  const ms = [member('a', { x: 10, y: 2 }), member('b', { x: 7 }), member('c', { x: 4, y: 2 })];
  assert.deepEqual(committedPrefix(ms, 3), { x: 7, y: 2 });
  assert.equal(uncommittedCount({ vv: { x: 10, y: 2 }, except: [] }, committedPrefix(ms, 3)), 3);
  assert.deepEqual(committedPrefix(ms.slice(0, 1), 3), {}, 'one member of three commits nothing');
});

test('two concurrent versions of a path are never both committed (acceptance is one per member)', () => {
  // Any assignment where each member accepts at most one of the two versions.
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 7 }),
      fc.array(fc.constantFrom('x', 'y', 'none', 'both-held')),
      (n, choices) => {
        const x = { origin: 'p~1', seq: 1 };
        const y = { origin: 'q~1', seq: 1 };
        const ms = Array.from({ length: n }, (_, i) => {
          const c = choices[i] ?? 'none';
          const refused = c === 'x' ? [refusalKey(y, 'f')] : c === 'y' ? [refusalKey(x, 'f')] : [];
          const vv: Record<string, number> = c === 'none' ? {} : { 'p~1': 1, 'q~1': 1 };
          // 'both-held' without a refusal would be a member accepting both: not allowed, so
          // such a member must have refused one; model it as refusing y.
          return member(`m${i}`, vv, c === 'both-held' ? [refusalKey(y, 'f')] : refused);
        });
        assert.ok(!(versionCommitted(ms, n, x, 'f') && versionCommitted(ms, n, y, 'f')));
      },
    ),
  );
});
