import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hlcMs, hlcStamp, MAX_DRIFT_MS, makeHlc, receive, tick } from '../../src/clock/hlc.ts';

type Step =
  | { kind: 'tick'; wall: number }
  | { kind: 'recv'; wall: number; remote: number }
  | { kind: 'restart' };

const T0 = 1_750_000_000_000;
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('tick' as const),
    wall: fc.integer({ min: T0 - 100_000, max: T0 + 100_000 }),
  }),
  fc.record({
    kind: fc.constant('recv' as const),
    wall: fc.integer({ min: T0 - 100_000, max: T0 + 100_000 }),
    remote: fc.integer({ min: makeHlc(T0 - 200_000, 0), max: makeHlc(T0 + 200_000, 1023) }),
  }),
  fc.record({ kind: fc.constant('restart' as const) }),
);

test('HLC is strictly monotonic across backward wall jumps, receives and restarts', () => {
  fc.assert(
    fc.property(fc.array(arbStep, { maxLength: 60 }), (steps) => {
      let persisted = 0; // what a restart reloads: the last timestamp written with an operation
      let last = 0;
      for (const s of steps) {
        if (s.kind === 'restart') {
          last = persisted;
          continue;
        }
        const next = s.kind === 'tick' ? tick(last, s.wall) : receive(last, s.remote, s.wall);
        assert.ok(next > last, `${next} must exceed ${last}`);
        if (s.kind === 'recv' && hlcMs(s.remote) <= s.wall + MAX_DRIFT_MS) assert.ok(next > s.remote);
        last = next;
        persisted = next;
      }
    }),
  );
});

test('HLC follows the wall clock when it moves forward', () => {
  const t = tick(0, T0);
  assert.equal(hlcMs(t), T0);
  assert.equal(hlcMs(tick(t, T0 + 5)), T0 + 5);
  // Wall clock jumps back an hour: time stays put and only the logical part moves.
  const back = tick(t, T0 - 3_600_000);
  assert.equal(back, t + 1);
});

test('a remote timestamp far in the future is not adopted', () => {
  const far = makeHlc(T0 + MAX_DRIFT_MS + 60_000, 0);
  assert.equal(hlcMs(receive(0, far, T0)), T0);
});

test('logical counter overflow advances the millisecond part', () => {
  const t = makeHlc(T0, 1023);
  assert.equal(tick(t, T0), makeHlc(T0 + 1, 0));
});

test('stamp is UTC yyyymmdd-hhmmss', () => {
  assert.equal(hlcStamp(makeHlc(Date.UTC(2026, 10, 25, 21, 5, 9), 3)), '20261125-210509');
});
