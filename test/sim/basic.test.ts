import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimCluster } from './cluster.ts';

function files(c: SimCluster, i: number) {
  return c.snapshot(i).map((e) => `${e.path}:${e.kind}`);
}

test('a file written on one node appears on the other', async () => {
  const c = new SimCluster({ n: 2, seed: 1, verbose: !!process.env.SIM_VERBOSE });
  await c.start();
  c.user(0).writeFile('hello.txt', 'hi there');
  await c.settle({ converge: true });
  assert.deepEqual(c.snapshot(1), c.snapshot(0));
  assert.deepEqual(files(c, 1), ['hello.txt:file']);
  await c.stop();
});
