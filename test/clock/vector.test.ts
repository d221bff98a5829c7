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
  withoutTop,
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

// Clocks as a decoder or a caller might hand them over: keys in any order, zeros, and
// exceptions anywhere. Canonical output has sorted keys (so equal clocks encode alike).
const arbRawClock: fc.Arbitrary<Clock> = fc
  .tuple(
    fc.shuffledSubarray(ORIGINS),
    fc.array(fc.integer({ min: 0, max: MAX }), { minLength: 3, maxLength: 3 }),
    fc.array(fc.record({ origin: fc.constantFrom(...ORIGINS), seq: fc.integer({ min: 0, max: MAX + 1 }) }), {
      maxLength: 3,
    }),
  )
  .map(([keys, ns, except]) => ({ vv: Object.fromEntries(keys.map((k, i) => [k, ns[i]!])), except }));
const sortedKeys = (c: Clock) => Object.keys(c.vv).join() === Object.keys(c.vv).sort().join();

test('normalize and join give sorted keys, and the same dot sets, whatever the input order', () => {
  fc.assert(
    fc.property(arbRawClock, arbRawClock, (a, b) => {
      const n = normalize(a);
      assert.ok(sortedKeys(n), JSON.stringify(n));
      assert.ok(!Object.values(n.vv).includes(0));
      const j = join(a, b);
      assert.ok(sortedKeys(j), JSON.stringify(j));
      assert.deepEqual(dots(j), new Set([...dots(a), ...dots(b)]));
      assert.equal(JSON.stringify(join(n, normalize(b))), JSON.stringify(normalize(j)));
    }),
    { numRuns: 500 },
  );
});

test('withoutTop is normalize with the top dot excepted, key order included', () => {
  fc.assert(
    fc.property(arbRawClock, fc.constantFrom(...ORIGINS), (raw, origin) => {
      const c = { vv: raw.vv, except: [] };
      const top = c.vv[origin] ?? 0;
      fc.pre(top > 0);
      const d = { origin, seq: top };
      assert.equal(JSON.stringify(withoutTop(c, d)), JSON.stringify(normalize({ vv: c.vv, except: [d] })));
    }),
    { numRuns: 300 },
  );
});
