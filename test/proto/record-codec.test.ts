// The hand codecs of heads, file entries and operations (head-codec.ts, op-codec.ts)
// against protobufjs: the same bytes out, the same values in, the same refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import {
  CodecError,
  decodeFileEntry,
  decodeHead,
  decodeHeadKinds,
  decodeOperation,
  encodeFileEntry,
  encodeHead,
  encodeOperation,
  referenceDecoders,
} from '../../src/proto/codec.ts';
import { EntryType, type FileEntry, type Head, type Operation } from '../../src/proto/types.ts';
import { arbContent, arbOp, plain } from './arbitraries.ts';
import { R, refEncode } from './reference.ts';

const headOf = (op: Operation, c: Operation['content']): Head => ({
  versions: [
    {
      dot: { origin: op.origin, seq: op.seq },
      clock: op.clock,
      hlc: op.hlc,
      kind: op.kind,
      mode: op.mode,
      mtimeMs: op.mtimeMs,
      content: c,
      link: op.link,
    },
    {
      dot: { origin: '', seq: 0 },
      clock: { vv: {}, except: [] },
      hlc: 0,
      kind: op.kind,
      mode: 0,
      mtimeMs: 0,
      content: null,
      link: '',
    },
  ],
  accepted: op.seq % 2 ? { origin: op.origin, seq: op.seq } : null,
  covered: op.clock,
});
const entryOf = (op: Operation, c: Operation['content']): FileEntry => ({
  type: EntryType.File,
  size: op.hlc,
  mtimeMs: op.mtimeMs,
  ino: op.seq,
  mode: op.mode,
  ctimeMs: -op.mtimeMs,
  content: c,
  link: op.link,
  headPath: op.path,
  version: op.seq % 3 ? { origin: op.to, seq: op.seq } : null,
});

// Operations with any Unicode text, lone surrogates included (the hand encoder hands those
// to protobufjs), and numbers outside the fast path.
const arbOddOp = fc
  .tuple(
    arbOp,
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.constantFrom(0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -1),
    fc.constantFrom(1, 2 ** 53, 2 ** 53 + 2, -5, 0.5),
  )
  .map(([op, odd, uni, d, n]) => ({
    ...op,
    path: uni,
    link: odd,
    origin: `${uni}~`,
    clock: { vv: { ...op.clock.vv, [odd || 'x']: 3 }, except: op.clock.except },
    mtimeMs: d,
    hlc: n,
  }));

test('heads, file entries and operations encode exactly as protobufjs does, any text and numbers', () => {
  fc.assert(
    fc.property(fc.oneof(arbOp, arbOddOp), arbContent, (op, c) => {
      assert.deepEqual(Buffer.from(encodeOperation(op)), refEncode(R.Operation, op));
      const head = headOf(op, c);
      assert.deepEqual(Buffer.from(encodeHead(head)), refEncode(R.Head, head));
      const entry = entryOf(op, c);
      assert.deepEqual(Buffer.from(encodeFileEntry(entry)), refEncode(R.FileEntry, entry));
    }),
    { numRuns: Number(process.env.RUNS ?? 400) },
  );
});

test('what is encoded decodes to the same values as through protobufjs', () => {
  fc.assert(
    fc.property(fc.oneof(arbOp, arbOddOp), arbContent, (op, c) => {
      const bytes = [encodeOperation(op), encodeHead(headOf(op, c)), encodeFileEntry(entryOf(op, c))];
      assert.deepEqual(plain(decodeOperation(bytes[0]!)), plain(referenceDecoders.operation(bytes[0]!)));
      assert.deepEqual(plain(decodeHead(bytes[1]!)), plain(referenceDecoders.head(bytes[1]!)));
      assert.deepEqual(decodeHeadKinds(bytes[1]!), referenceDecoders.headKinds(bytes[1]!));
      assert.deepEqual(plain(decodeFileEntry(bytes[2]!)), plain(referenceDecoders.fileEntry(bytes[2]!)));
    }),
    { numRuns: Number(process.env.RUNS ?? 300) },
  );
});

/** Both decoders refuse the bytes (CodecError), or both read the same values from them. */
function agree(decode: (b: Uint8Array) => unknown, ref: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
  const outcome = (d: (b: Uint8Array) => unknown) => {
    try {
      return { value: plain(d(bytes)) };
    } catch (err) {
      assert.ok(err instanceof CodecError, String(err));
      return { refused: true };
    }
  };
  const hex = Buffer.from(bytes).toString('hex');
  assert.deepEqual({ hex, ...outcome(decode) }, { hex, ...outcome(ref) });
}

// Damage of every kind a peer or a disk could hand over: bytes changed, cut, inserted,
// fields repeated (a singular message merges, the last scalar wins), unknown fields.
type Damage = (b: Buffer) => Buffer;
const arbDamage: fc.Arbitrary<Damage> = fc.oneof<fc.Arbitrary<Damage>[]>(
  fc.record({ at: fc.nat(), byte: fc.nat(255) }).map((d) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length) c[d.at % c.length] = d.byte;
    return c;
  }),
  fc.nat().map((at) => (b: Buffer) => b.subarray(0, at % (b.length + 1))),
  fc
    .record({ at: fc.nat(), ins: fc.uint8Array({ minLength: 1, maxLength: 6 }) })
    .map(
      (d) => (b: Buffer) =>
        Buffer.concat([b.subarray(0, d.at % (b.length + 1)), d.ins, b.subarray(d.at % (b.length + 1))]),
    ),
  fc.nat().map((cut) => (b: Buffer) => Buffer.concat([b, b.subarray(cut % (b.length + 1))])),
  fc.uint8Array({ maxLength: 30 }).map((junk) => () => Buffer.from(junk)),
);

test('damaged records: the hand decoders refuse exactly what protobufjs refuses, and read the rest alike', () => {
  fc.assert(
    fc.property(arbOp, arbContent, fc.array(arbDamage, { minLength: 1, maxLength: 3 }), (op, c, damage) => {
      const hurt = (b: Uint8Array) => damage.reduce<Buffer>((x, d) => d(x), Buffer.from(b));
      agree(decodeOperation, referenceDecoders.operation, hurt(encodeOperation(op)));
      const head = hurt(encodeHead(headOf(op, c)));
      agree(decodeHead, referenceDecoders.head, head);
      agree(decodeHeadKinds, referenceDecoders.headKinds, head);
      agree(decodeFileEntry, referenceDecoders.fileEntry, hurt(encodeFileEntry(entryOf(op, c))));
    }),
    { numRuns: Number(process.env.RUNS ?? 1000) },
  );
});

test('clocks read as protobufjs reads them: the last value of a key wins, zeros and "__proto__" dropped', () => {
  const w = protobuf.Writer.create();
  const entry = (k: string, v: number) =>
    w.uint32(0x0a).fork().uint32(0x0a).string(k).uint32(0x10).uint64(v).ldelim();
  w.uint32(0x22).fork(); // Operation.clock
  entry('a', 5);
  entry('b', 0);
  entry('__proto__', 9);
  entry('c', 7);
  w.ldelim();
  w.uint32(0x22).fork(); // the clock again: merged
  entry('a', 0);
  entry('b', 4);
  w.uint32(0x12).fork().uint32(0x0a).string('x').uint32(0x10).uint64(2).ldelim(); // an exception
  w.ldelim();
  const bytes = w.finish();
  const op = decodeOperation(bytes);
  assert.deepEqual(op.clock, { vv: { b: 4, c: 7 }, except: [{ origin: 'x', seq: 2 }] });
  assert.deepEqual(Object.getPrototypeOf(op.clock.vv), Object.prototype);
  assert.deepEqual(plain(op), plain(referenceDecoders.operation(bytes)));
});

test('a field of the wrong wire type is skipped, not misread', () => {
  const w = protobuf.Writer.create();
  w.uint32((6 << 3) | 0).uint32(5); // Operation.path as a varint
  w.uint32((3 << 3) | 2).bytes(new Uint8Array([1, 2])); // seq as bytes
  w.uint32((9 << 3) | 0).uint32(1); // mtime as a varint
  w.uint32((6 << 3) | 2).string('p'); // then the path as it should be
  const bytes = w.finish();
  const op = decodeOperation(bytes);
  assert.equal(op.path, 'p');
  assert.equal(op.seq, 0);
  assert.equal(op.mtimeMs, 0);
  assert.deepEqual(plain(op), plain(referenceDecoders.operation(bytes)));
});

test('a long block list shared by an operation, its head and its index entry encodes right in each', () => {
  fc.assert(
    fc.property(arbOp, fc.integer({ min: 64, max: 300 }), (op, n) => {
      const blocks = Array.from({ length: n }, (_, i) => ({
        offset: i * 70_000,
        length: 70_000,
        hash: new Uint8Array(32).fill(i & 255),
      }));
      const content = {
        size: n * 70_000,
        digest: new Uint8Array(32).fill(7),
        blocks,
        inlineData: new Uint8Array(0),
      };
      const withContent = { ...op, kind: 1 as Operation['kind'], content };
      for (let round = 0; round < 2; round++) {
        assert.deepEqual(Buffer.from(encodeOperation(withContent)), refEncode(R.Operation, withContent));
        const head = headOf(withContent, content);
        assert.deepEqual(Buffer.from(encodeHead(head)), refEncode(R.Head, head));
        const entry = entryOf(withContent, content);
        assert.deepEqual(Buffer.from(encodeFileEntry(entry)), refEncode(R.FileEntry, entry));
      }
    }),
    { numRuns: 30 },
  );
});
