// Arbitraries for the codec tests: records at the edges of each field's encoding.
import fc from 'fast-check';
import { Kind, type Operation } from '../../src/proto/types.ts';

export const arbBytes = fc.uint8Array({ maxLength: 40 });
export const arbClock = fc.record({
  vv: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 2 ** 40 })),
  except: fc.array(
    fc.record({ origin: fc.string({ maxLength: 8 }), seq: fc.integer({ min: 1, max: 1000 }) }),
    {
      maxLength: 3,
    },
  ),
});
// Numbers at the edges of each varint length and of the fast path (2^32, 2^53).
export const arbUint = (max: number) =>
  fc.oneof(
    fc.integer({ min: 0, max }),
    fc
      .constantFrom(0, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1)
      .filter((v) => v <= max),
  );
export const arbPresentContent = fc.record({
  size: arbUint(Number.MAX_SAFE_INTEGER),
  digest: arbBytes,
  blocks: fc.array(
    fc.record({ offset: arbUint(Number.MAX_SAFE_INTEGER), length: arbUint(2 ** 32 - 1), hash: arbBytes }),
    {
      maxLength: 4,
    },
  ),
  inlineData: arbBytes,
});
// Every field at its default: an empty message on the wire, which must not decode as absent.
export const blankContent = () => ({
  size: 0,
  digest: new Uint8Array(0),
  blocks: [],
  inlineData: new Uint8Array(0),
});
export const arbContent = fc.option(fc.oneof(arbPresentContent, fc.constant(null).map(blankContent)), {
  nil: null,
});
export const arbOp: fc.Arbitrary<Operation> = fc.record({
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
export function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}
