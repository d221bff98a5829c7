// Block reply frames built by hand (src/proto/reply-frame.ts) are byte for byte what
// protobufjs writes for the same Frame, and decode back to it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeFrame, encodeFrame } from '../../src/proto/codec.ts';
import { blockReplyFrame, missingReplyFrame } from '../../src/proto/reply-frame.ts';

const idArb = fc.oneof(fc.constantFrom(0, 1, 127, 128, 16_383, 16_384, 0xffffffff), fc.nat(0xffffffff));
const dataArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.constantFrom(127, 128, 16_383, 16_384, 70_000, 262_144).map((n) => new Uint8Array(n).fill(n % 251)),
);

test('a reply with data is what protobufjs writes, and decodes back', () => {
  fc.assert(
    fc.property(idArb, dataArb, (id, data) => {
      const { frame, data: slot } = blockReplyFrame(id, data.length);
      assert.equal(slot.length, data.length);
      slot.set(data);
      const expected = encodeFrame({ blockReply: { id, data, missing: false } });
      assert.deepEqual(Buffer.from(frame), Buffer.from(expected));
      const back = decodeFrame(frame);
      assert.ok('blockReply' in back);
      assert.equal(back.blockReply.id, id);
      assert.equal(back.blockReply.missing, false);
      assert.deepEqual(Buffer.from(back.blockReply.data), Buffer.from(data));
    }),
    { numRuns: 500 },
  );
});

test('a missing reply is what protobufjs writes', () => {
  fc.assert(
    fc.property(idArb, (id) => {
      const expected = encodeFrame({ blockReply: { id, data: new Uint8Array(), missing: true } });
      assert.deepEqual(Buffer.from(missingReplyFrame(id)), Buffer.from(expected));
    }),
    { numRuns: 300 },
  );
});

test('ids and lengths outside the protocol are refused', () => {
  assert.throws(() => blockReplyFrame(-1, 1), RangeError);
  assert.throws(() => blockReplyFrame(2 ** 32, 1), RangeError);
  assert.throws(() => blockReplyFrame(1, 1.5), RangeError);
  assert.throws(() => missingReplyFrame(0.5), RangeError);
});
