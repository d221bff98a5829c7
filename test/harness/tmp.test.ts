import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanupAll, makeTempDir, tempDirs } from './tmp.ts';

test('cleanupAll removes every temp dir, read-only contents included', async () => {
  const a = await makeTempDir('tmp-test');
  const b = await makeTempDir('tmp-test');
  assert.notEqual(a, b);
  assert.ok(a.startsWith(tmpdir()));
  assert.deepEqual(tempDirs().slice(-2), [a, b]);
  await writeFile(join(a, 'ro.txt'), 'x', { mode: 0o444 });
  await mkdir(join(b, 'locked/deeper'), { recursive: true });
  await writeFile(join(b, 'locked/deeper/f'), 'y');
  await chmod(join(b, 'locked/deeper'), 0o555);
  await chmod(join(b, 'locked'), 0o500);
  await cleanupAll();
  assert.equal(existsSync(a), false);
  assert.equal(existsSync(b), false);
  assert.deepEqual(tempDirs(), []);
});
