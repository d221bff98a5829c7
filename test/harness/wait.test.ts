import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeoutError } from './errors.ts';
import { waitFor, waitForValue } from './wait.ts';

test('waitFor resolves as soon as the condition holds', async () => {
  let n = 0;
  await waitFor(() => ++n >= 3, { intervalMs: 1 });
  assert.equal(n, 3);
  await waitFor(async () => true);
});

test('waitForValue returns the first truthy value; throws count as "not yet"', async () => {
  let n = 0;
  const v = await waitForValue(
    () => {
      n++;
      if (n < 2) throw new Error('not there yet');
      return n < 4 ? undefined : { n };
    },
    { intervalMs: 1 },
  );
  assert.deepEqual(v, { n: 4 });
});

test('timeout error names what was awaited, the last value and the described state', async () => {
  await assert.rejects(
    waitForValue(() => 0, {
      timeoutMs: 50,
      message: 'node 1 to have a.txt',
      describe: () => ({ files: ['b.txt'] }),
    }),
    (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.match(e.message, /waiting for node 1 to have a\.txt/);
      assert.match(e.message, /last value: 0/);
      assert.match(e.message, /state: \{ files: \[ 'b\.txt' \] \}/);
      return true;
    },
  );
  await assert.rejects(
    waitFor(
      () => {
        throw new Error('ENOENT: a.txt');
      },
      { timeoutMs: 30 },
    ),
    /last poll threw: ENOENT: a\.txt/,
  );
});

test('a poll that never settles does not outlive the deadline', async () => {
  const start = Date.now();
  await assert.rejects(
    waitFor(() => new Promise<boolean>(() => {}), { timeoutMs: 100 }),
    /still running at the deadline/,
  );
  assert.ok(Date.now() - start < 1000);
});
