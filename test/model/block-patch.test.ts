import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyPatch, makePatch, PATCH_MIN_SHARED } from '../../src/model/block-patch.ts';
import type { Block } from '../../src/proto/types.ts';

const h = (tag: number) => createHash('sha256').update(String(tag)).digest();

/** A tiled list from block lengths and hash tags. */
function list(parts: [number, number][]): { blocks: Block[]; size: number } {
  let offset = 0;
  const blocks = parts.map(([length, tag]) => {
    const b = { offset, length, hash: h(tag) };
    offset += length;
    return b;
  });
  return { blocks, size: offset };
}

const norm = (bs: Block[]) =>
  bs.map((b) => `${b.offset}+${b.length}:${Buffer.from(b.hash).toString('hex', 0, 4)}`);
const part = fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 1e6 }));

test('a patch rebuilds the new list exactly, for any edit of a list', () => {
  fc.assert(
    fc.property(
      fc.array(part, { minLength: 0, maxLength: 120 }),
      fc.nat(),
      fc.nat(),
      fc.array(part, { maxLength: 10 }),
      (parts, a, b, inserted) => {
        // Replace a random range [from, to) of blocks by other blocks: offsets after it move.
        const from = parts.length ? a % (parts.length + 1) : 0;
        const to = from + (parts.length - from ? b % (parts.length - from + 1) : 0);
        const base = list(parts);
        const next = list([...parts.slice(0, from), ...inserted, ...parts.slice(to)]);
        const p = makePatch(base.blocks, base.size, next.blocks, next.size);
        if (!p) return;
        assert.ok(p.head + p.tail >= PATCH_MIN_SHARED);
        assert.equal(p.middle.length, next.blocks.length - p.head - p.tail);
        const rebuilt = applyPatch(base.blocks, base.size, p, next.size);
        assert.ok(typeof rebuilt !== 'string');
        assert.deepEqual(norm(rebuilt), norm(next.blocks));
      },
    ),
    { numRuns: 500 },
  );
});

test('an edit in the middle of a long list keeps everything around it', () => {
  const parts: [number, number][] = Array.from({ length: 200 }, (_, i) => [1000 + i, i]);
  const base = list(parts);
  const next = list([...parts.slice(0, 90), [777, -1], [778, -2], ...parts.slice(95)]);
  const p = makePatch(base.blocks, base.size, next.blocks, next.size)!;
  assert.equal(p.head, 90);
  assert.equal(p.tail, 105);
  assert.deepEqual(norm(p.middle), norm(next.blocks.slice(90, 92)));
});

test('lists sharing too little get no patch; a patch that overreaches its base is refused', () => {
  const base = list(Array.from({ length: 40 }, (_, i) => [100, i] as [number, number]));
  const other = list(Array.from({ length: 40 }, (_, i) => [100, i + 1000] as [number, number]));
  assert.equal(makePatch(base.blocks, base.size, other.blocks, other.size), null);
  const same = makePatch(base.blocks, base.size, base.blocks, base.size)!;
  assert.equal(same.head + same.tail, 40);
  assert.deepEqual(same.middle, []);
  assert.match(
    String(applyPatch(base.blocks, base.size, { head: 30, tail: 11, middle: [] }, 4000)),
    /keeps 30\+11/,
  );
  assert.match(String(applyPatch(base.blocks, base.size, { head: -1, tail: 0, middle: [] }, 4000)), /keeps/);
});
