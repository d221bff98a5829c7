// The scavenge hint: with a `gc` function present (the launcher's --expose-gc), one minor
// collection per 8 MiB of received buffers, none in between; without one, nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';

test('a minor collection is asked for once per 8 MiB of young buffers', async () => {
  const calls: unknown[] = [];
  const g = globalThis as { gc?: unknown };
  const had = g.gc;
  g.gc = (o: unknown) => calls.push(o);
  try {
    // Imported after `gc` is in place: the module takes it once, as the daemon's does at start.
    const { noteYoungBuffers } = await import('../../src/util/young-garbage.ts');
    noteYoungBuffers(3 * 1024 * 1024);
    noteYoungBuffers(3 * 1024 * 1024);
    assert.equal(calls.length, 0);
    noteYoungBuffers(3 * 1024 * 1024); // 9 MiB
    assert.deepEqual(calls, [{ type: 'minor' }]);
    for (let i = 0; i < 16; i++) noteYoungBuffers(1024 * 1024);
    assert.equal(calls.length, 3);
  } finally {
    g.gc = had;
  }
});
