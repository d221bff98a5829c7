// Convergence properties of the real node core under random schedules. A failure prints
// its shrunk counterexample; replay it verbosely with
//   npm run soak -- --nodes N --replay '<counterexample JSON>'
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { assertSchedules, checkConverged, checkNoLostWrite, RUNS, runCase } from './check.ts';

// A fixed seed keeps CI deterministic; `npm run soak` explores new schedules.
const SEED = Number(process.env.SIM_SEED ?? 20261125);

import { SimCluster } from './cluster.ts';
import { arbAction, Oracle } from './schedule.ts';

const schedule = (n: number, faults: boolean) =>
  fc.record({
    seed: fc.nat(1_000_000),
    actions: fc.array(arbAction(n, faults), { minLength: 1, maxLength: 30 }),
  });

for (const n of [2, 3, 5]) {
  test(`${n} nodes: random edits, partitions, crashes and faulty delivery converge without losing a write`, async () => {
    await assertSchedules(
      n,
      fc.asyncProperty(schedule(n, true), async ({ seed, actions }) => {
        await runCase(n, seed, actions, true);
      }),
      { numRuns: RUNS, seed: SEED + n },
    );
  });
}

test('2 nodes, one edit at a time: no conflict copies and one operation per edit (no echo, no false conflict)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ seed: fc.nat(1_000_000), actions: fc.array(arbAction(2, false), { maxLength: 15 }) }),
      async ({ seed, actions }) => {
        const c = new SimCluster({ n: 2, seed });
        await c.start();
        const o = new Oracle(c);
        try {
          for (const a of actions) {
            await o.apply(a);
            await c.settle({ converge: true });
          }
          checkConverged(c);
          checkNoLostWrite(c, o);
          const copies = c.snapshot(0).filter((e) => e.path.includes('.conflict-'));
          assert.deepEqual(copies, [], 'sequential edits never conflict');
        } finally {
          await c.stop();
        }
      },
    ),
    { numRuns: RUNS, seed: SEED },
  );
});
