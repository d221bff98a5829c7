import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  compare,
  covers,
  emptyClock,
  equals,
  join,
  leq,
  normalize,
  withDot,
} from '../../src/clock/vector.ts';
import type { Clock, Dot } from '../../src/proto/types.ts';

const ORIGINS = ['a~1', 'b~1', 'c~1'];
const MAX = 6;

/** Arbitrary exact dot sets over a small universe, built as clocks. */
const arbClock: fc.Arbitrary<Clock> = fc
  .record({
    vv: fc.record(Object.fromEntries(ORIGINS.map((o) => [o, fc.integer({ min: 0, max: MAX })]))),
    except: fc.array(
      fc.record({ origin: fc.constantFrom(...ORIGINS), seq: fc.integer({ min: 1, max: MAX }) }),
      {
        maxLength: 4,
      },
    ),
  })
  .map((c) => normalize(c as Clock));

/** The dots a clock stands for, as a set of "origin:seq" strings. */
function dots(c: Clock): Set<string> {
  const out = new Set<string>();
  for (const o of ORIGINS)
    for (let s = 1; s <= MAX; s++) if (covers(c, { origin: o, seq: s })) out.add(`${o}:${s}`);
  return out;
}
const subset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

test('join is the union of dot sets', () => {
  fc.assert(
    fc.property(arbClock, arbClock, (a, b) => {
      assert.deepEqual(dots(join(a, b)), new Set([...dots(a), ...dots(b)]));
    }),
  );
});

test('join is commutative, associative and idempotent (canonical form)', () => {
  fc.assert(
    fc.property(arbClock, arbClock, arbClock, (a, b, c) => {
      assert.deepEqual(join(a, b), join(b, a));
      assert.deepEqual(join(join(a, b), c), join(a, join(b, c)));
      assert.deepEqual(join(a, a), normalize(a));
      assert.deepEqual(join(a, emptyClock()), normalize(a));
    }),
  );
});

test('compare agrees with set inclusion and is consistent', () => {
  fc.assert(
    fc.property(arbClock, arbClock, (a, b) => {
      const da = dots(a);
      const db = dots(b);
      assert.equal(leq(a, b), subset(da, db));
      const ab = compare(a, b);
      const ba = compare(b, a);
      const flip = { equal: 'equal', before: 'after', after: 'before', concurrent: 'concurrent' } as const;
      assert.equal(ba, flip[ab]);
      if (ab === 'equal') assert.deepEqual(da, db);
      if (ab === 'before') assert.ok(subset(da, db) && da.size < db.size);
      if (ab === 'concurrent') assert.ok(!subset(da, db) && !subset(db, da));
      // The join is an upper bound of both.
      assert.ok(leq(a, join(a, b)) && leq(b, join(a, b)));
    }),
  );
});

test('equal clocks have one canonical form', () => {
  fc.assert(
    fc.property(arbClock, arbClock, (a, b) => {
      if (equals(a, b)) assert.deepEqual(normalize(a), normalize(b));
    }),
  );
});

test('withDot adds the dot and keeps listed own dots out', () => {
  const c = withDot(emptyClock(), { origin: 'a~1', seq: 5 }, [{ origin: 'a~1', seq: 3 }]);
  assert.ok(covers(c, { origin: 'a~1', seq: 5 }));
  assert.ok(covers(c, { origin: 'a~1', seq: 4 }));
  assert.ok(!covers(c, { origin: 'a~1', seq: 3 }));
  // A later join with a clock that does hold a~1:3 covers it again.
  const d: Dot = { origin: 'a~1', seq: 3 };
  assert.ok(covers(join(c, withDot(emptyClock(), d)), d));
});

test('normalize lowers a top excepted dot instead of listing it', () => {
  const c = normalize({
    vv: { 'a~1': 4 },
    except: [
      { origin: 'a~1', seq: 4 },
      { origin: 'a~1', seq: 3 },
    ],
  });
  assert.deepEqual(c, { vv: { 'a~1': 2 }, except: [] });
});
