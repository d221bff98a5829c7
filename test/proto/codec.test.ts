import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import {
  CodecError,
  decodeFileEntry,
  decodeFrame,
  decodeHead,
  decodeOperation,
  encodeFileEntry,
  encodeFrame,
  encodeHead,
  encodeOperation,
} from '../../src/proto/codec.ts';
import { decodeContent, encodeContent } from '../../src/proto/content-codec.ts';
import { EntryType } from '../../src/proto/types.ts';
import { arbContent, arbOp, arbPresentContent, blankContent, plain } from './arbitraries.ts';
import { R, refEncode } from './reference.ts';

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

test('a Content is encoded by hand exactly as protobufjs encodes it, and decoded back', () => {
  fc.assert(
    fc.property(arbPresentContent, (c) => {
      const ours = Buffer.from(encodeContent(c, () => assert.fail('fast path refused a valid content')));
      assert.deepEqual(ours, refEncode(R.Content, c));
      assert.deepEqual(plain(decodeContent(ours)), plain(c));
    }),
    { numRuns: 500 },
  );
});

test('numbers the fast path does not write go to the fallback encoder', () => {
  const c = { size: 1, digest: new Uint8Array(0), inlineData: new Uint8Array(0) };
  for (const blocks of [
    [{ offset: -1, length: 1, hash: new Uint8Array(0) }],
    [{ offset: 1.5, length: 1, hash: new Uint8Array(0) }],
    [{ offset: 0, length: 2 ** 32, hash: new Uint8Array(0) }],
    [{ offset: 2 ** 53, length: 1, hash: new Uint8Array(0) }],
  ]) {
    const bytes = encodeContent({ ...c, blocks }, () => new Uint8Array([42]));
    assert.deepEqual([...bytes], [42], JSON.stringify(blocks));
  }
});

test('operations, heads and file entries holding a Content encode as protobufjs does', () => {
  fc.assert(
    fc.property(arbOp, arbContent, (op, c) => {
      assert.deepEqual(Buffer.from(encodeOperation(op)), refEncode(R.Operation, op));
      const version = {
        dot: { origin: op.origin, seq: op.seq },
        clock: op.clock,
        hlc: op.hlc,
        kind: op.kind,
      };
      const head = {
        versions: [
          { ...version, mode: op.mode, mtimeMs: op.mtimeMs, content: c, link: op.link },
          { ...version, mode: 1, mtimeMs: 2, content: op.content, link: '' },
        ],
        accepted: null,
        covered: op.clock,
      };
      assert.deepEqual(Buffer.from(encodeHead(head)), refEncode(R.Head, head));
      const entry = {
        type: EntryType.File,
        size: 3,
        mtimeMs: 4.5,
        ino: 6,
        mode: 0o644,
        ctimeMs: 7.25,
        content: c,
        link: '',
        headPath: op.path,
        version: null,
      };
      const bytes = encodeFileEntry(entry);
      assert.deepEqual(Buffer.from(bytes), refEncode(R.FileEntry, entry));
      assert.deepEqual(plain(decodeFileEntry(bytes)), plain(entry));
    }),
    { numRuns: Number(process.env.RUNS ?? 300) },
  );
});

test('a Content written by another encoder decodes the same: any field order, unknown fields, repeats', () => {
  const w = protobuf.Writer.create();
  w.uint32((4 << 3) | 2).bytes(new Uint8Array([9])); // inline data first
  w.uint32((9 << 3) | 0).uint32(77); // an unknown varint
  w.uint32((2 << 3) | 0).uint32(5); // the digest with a wrong wire type: skipped
  w.uint32((3 << 3) | 2).fork();
  w.uint32((3 << 3) | 2).bytes(new Uint8Array([1, 2]));
  w.uint32((15 << 3) | 5).fixed32(5); // an unknown fixed32 inside a block
  w.uint32((1 << 3) | 0).uint64(2 ** 40);
  w.uint32((2 << 3) | 0).uint32(300);
  w.ldelim();
  w.uint32((1 << 3) | 0).uint64(5);
  w.uint32((1 << 3) | 0).uint64(6); // the last one wins
  const bytes = w.finish();
  const want = {
    size: 6,
    digest: [],
    blocks: [{ offset: 2 ** 40, length: 300, hash: [1, 2] }],
    inlineData: [9],
  };
  assert.deepEqual(plain(decodeContent(bytes)), want);
  // protobufjs agrees (it leaves the absent digest out of the object).
  const { digest: _absent, ...rest } = want;
  assert.deepEqual(plain(R.Content.toObject(R.Content.decode(bytes), { longs: Number })), rest);
});

test('a malformed Content throws, and so do the messages holding it (CodecError)', () => {
  const bad = [
    [0x1a, 0x05, 0x08], // a block longer than the content
    [0x1a, 0x02, 0x1a, 0x05], // a hash longer than its block
    [0x12, 0x09, 0x00], // a digest longer than the content
    [0x0b], // a group start (wire type 3)
  ];
  for (const b of bad) assert.throws(() => decodeContent(new Uint8Array(b)), JSON.stringify(b));
  const op = new Uint8Array([0x52, 0x03, 0x1a, 0x05, 0x08]); // Operation.content = a bad block
  assert.throws(() => decodeOperation(op), CodecError);
});

test('a Content with every field at its default is kept, not lost as absent', () => {
  const entry = {
    type: EntryType.File,
    size: 0,
    mtimeMs: 1,
    ino: 2,
    mode: 0o644,
    ctimeMs: 3,
    content: blankContent(),
    link: '',
    headPath: 'a',
    version: null,
  };
  const bytes = encodeFileEntry(entry);
  assert.deepEqual(Buffer.from(bytes), refEncode(R.FileEntry, entry));
  assert.deepEqual(plain(decodeFileEntry(bytes).content), plain(blankContent()));
});
