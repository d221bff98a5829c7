// Long runs of the convergence properties, and replays of a failure.
//   npm run soak -- --runs 5000 --nodes 3 [--seed S]           many random schedules
//   npm run soak -- --replay '<counterexample JSON>' --nodes 3   one schedule, verbose
// A failing property prints its counterexample (the schedule) and fast-check's seed/path.
import fc from 'fast-check';
import { runCase } from './check.ts';
import { type Action, arbAction } from './schedule.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const nodes = Number(arg('nodes') ?? 3);
const replay = arg('replay');
if (replay) {
  const parsed = JSON.parse(replay) as
    | { seed: number; actions: Action[] }
    | [{ seed: number; actions: Action[] }];
  const c = Array.isArray(parsed) ? parsed[0] : parsed;
  try {
    await runCase(nodes, c.seed, c.actions, arg('faults') !== 'off', { verbose: true, dump: true });
    console.log('replay passed');
  } catch (err) {
    console.error('replay failed:', err);
    process.exitCode = 1;
  }
} else {
  const runs = Number(arg('runs') ?? 1000);
  const seed = arg('seed') === undefined ? Date.now() % 2 ** 31 : Number(arg('seed'));
  const path = arg('path');
  console.log(`soak: ${runs} runs, ${nodes} nodes, seed ${seed}`);
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.nat(1_000_000),
          actions: fc.array(arbAction(nodes, true), { minLength: 1, maxLength: 40 }),
        }),
        async ({ seed: s, actions }) => {
          await runCase(nodes, s, actions, true);
        },
      ),
      { numRuns: runs, seed, ...(path ? { path } : {}) },
    );
    console.log(`soak passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    console.error(String(err));
    console.error('cause:', (err as { cause?: unknown }).cause);
    process.exitCode = 1;
  }
}
