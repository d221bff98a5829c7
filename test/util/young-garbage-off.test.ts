// Without a `gc` function (node started without --expose-gc) the hint does nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';

test('without gc exposed, noting buffers does nothing and throws nothing', async () => {
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  const { noteYoungBuffers } = await import('../../src/util/young-garbage.ts');
  for (let i = 0; i < 100; i++) noteYoungBuffers(1024 * 1024);
});
