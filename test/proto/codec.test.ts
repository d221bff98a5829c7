import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CodecError,
  decodeFrame,
  decodeHead,
  decodeOperation,
  encodeFrame,
  encodeHead,
  encodeOperation,
} from '../../src/proto/codec.ts';
import { Kind, type Operation } from '../../src/proto/types.ts';

const arbBytes = fc.uint8Array({ maxLength: 40 });
const arbClock = fc.record({
  vv: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 2 ** 40 })),
  except: fc.array(
    fc.record({ origin: fc.string({ maxLength: 8 }), seq: fc.integer({ min: 1, max: 1000 }) }),
    {
      maxLength: 3,
    },
  ),
});
const arbContent = fc.option(
  fc.record({
    size: fc.integer({ min: 0, max: 2 ** 45 }),
    digest: arbBytes,
    blocks: fc.array(
      fc.record({ offset: fc.integer({ min: 0, max: 2 ** 45 }), length: fc.nat(2 ** 31), hash: arbBytes }),
      { maxLength: 4 },
    ),
    inlineData: arbBytes,
  }),
  { nil: null },
);
const arbOp: fc.Arbitrary<Operation> = fc.record({
  format: fc.constant(1),
  origin: fc.string({ maxLength: 20 }),
  seq: fc.integer({ min: 1, max: 2 ** 50 }),
  clock: arbClock,
  hlc: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  path: fc.string({ maxLength: 30 }),
  kind: fc.constantFrom(...Object.values(Kind)),
  mode: fc.nat(0o7777),
  mtimeMs: fc.double({ min: 0, max: 2e12, noNaN: true }),
  content: arbContent,
  link: fc.string({ maxLength: 10 }),
  to: fc.string({ maxLength: 10 }),
  entries: fc.array(
    fc.record({
      path: fc.string({ maxLength: 10 }),
      kind: fc.constantFrom(Kind.Put, Kind.Mkdir, Kind.Symlink),
      fromClock: arbClock,
      toClock: arbClock,
      mode: fc.nat(0o7777),
      mtimeMs: fc.double({ min: 0, max: 2e12, noNaN: true }),
      content: arbContent,
      link: fc.string({ maxLength: 10 }),
    }),
    { maxLength: 3 },
  ),
});

/** Byte arrays compare by value whatever their concrete class (Buffer vs Uint8Array). */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

test('operations round-trip through the codec', () => {
  fc.assert(
    fc.property(arbOp, (op) => {
      const back = decodeOperation(encodeOperation(op));
      const norm = { ...op, clock: { ...op.clock, vv: Object.fromEntries(Object.entries(op.clock.vv)) } };
      assert.deepEqual(plain(back), plain(norm));
    }),
  );
});

test('heads round-trip, including an absent accepted dot', () => {
  const h = {
    versions: [],
    accepted: null,
    covered: { vv: { 'a~1': 3 }, except: [{ origin: 'a~1', seq: 2 }] },
  };
  assert.deepEqual(plain(decodeHead(encodeHead(h))), plain(h));
});

test('garbage never crashes the decoder: it decodes to defaults or throws CodecError', () => {
  for (let i = 0; i < 2000; i++) {
    const buf = randomBytes(i % 64);
    try {
      const f = decodeFrame(buf);
      assert.equal(typeof f, 'object');
    } catch (err) {
      assert.ok(err instanceof CodecError, String(err));
    }
    try {
      decodeOperation(buf);
    } catch (err) {
      assert.ok(err instanceof CodecError, String(err));
    }
  }
});

test('frames carry exactly one body', () => {
  const f = encodeFrame({ ops: { ops: [new Uint8Array([1, 2])], caughtUp: true } });
  const back = decodeFrame(f);
  assert.ok('ops' in back);
  assert.equal(back.ops.caughtUp, true);
  assert.deepEqual([...back.ops.ops[0]!], [1, 2]);
  assert.throws(() => decodeFrame(new Uint8Array()), CodecError);
});
