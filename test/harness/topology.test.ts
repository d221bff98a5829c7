import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HarnessError } from './errors.ts';
import { edgeKey, groupOf, partitionEdges, topologyEdges } from './topology.ts';

test('mesh links every pair, line links neighbours', () => {
  assert.deepEqual(topologyEdges(3, 'mesh'), [
    [0, 1],
    [0, 2],
    [1, 2],
  ]);
  assert.equal(topologyEdges(5, 'mesh').length, 10);
  assert.deepEqual(topologyEdges(4, 'line'), [
    [0, 1],
    [1, 2],
    [2, 3],
  ]);
  assert.deepEqual(topologyEdges(1, 'mesh'), []);
  assert.throws(() => topologyEdges(0, 'mesh'), HarnessError);
});

test('edgeKey ignores order', () => {
  assert.equal(edgeKey(2, 1), edgeKey(1, 2));
});

test('unlisted nodes form one extra group', () => {
  assert.deepEqual(groupOf(4, [[2]]), [1, 1, 0, 1]);
  assert.deepEqual(groupOf(3, [[0], [1, 2]]), [0, 1, 1]);
  assert.throws(() => groupOf(3, [[0], [0, 1]]), /two groups/);
  assert.throws(() => groupOf(3, [[3]]), /no node 3/);
});

test('partition cuts exactly the links between groups', () => {
  const mesh = topologyEdges(4, 'mesh');
  const { cut, kept } = partitionEdges(4, mesh, [
    [0, 1],
    [2, 3],
  ]);
  assert.deepEqual(kept, [
    [0, 1],
    [2, 3],
  ]);
  assert.deepEqual(cut, [
    [0, 2],
    [0, 3],
    [1, 2],
    [1, 3],
  ]);
  // Isolating the middle of a line cuts both of its links and nothing else.
  const line = partitionEdges(3, topologyEdges(3, 'line'), [[1]]);
  assert.deepEqual(line.cut, [
    [0, 1],
    [1, 2],
  ]);
  assert.deepEqual(line.kept, []);
  // One group with everyone: nothing is cut.
  assert.deepEqual(partitionEdges(3, topologyEdges(3, 'mesh'), [[0, 1, 2]]).cut, []);
});
