// Record format: [format byte][CRC-32 of payload][payload]. Text records are sealed without
// an intermediate copy; they must be exactly the sealed UTF-8 bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CorruptRecordError, openRecord, openText, sealRecord, sealText } from '../../src/log/record.ts';

test('a text record is its sealed UTF-8 bytes, and opens back to the text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      const sealed = sealText(text);
      assert.deepEqual(Buffer.from(sealed), Buffer.from(sealRecord(Buffer.from(text, 'utf8'))));
      assert.equal(openText('k', sealed), Buffer.from(text, 'utf8').toString('utf8'));
    }),
    { numRuns: 1000 },
  );
});

test('a damaged record is refused with its key', () => {
  const sealed = Uint8Array.from(sealText('path\u0000123\u000045'));
  for (let i = 0; i < sealed.length; i++) {
    const bad = Uint8Array.from(sealed);
    bad[i]! ^= 0x10;
    assert.throws(
      () => openRecord('b!ab', bad),
      (e: unknown) => e instanceof CorruptRecordError && e.key === 'b!ab',
      `byte ${i}`,
    );
  }
  assert.throws(() => openRecord('k', new Uint8Array(3)), CorruptRecordError);
});
