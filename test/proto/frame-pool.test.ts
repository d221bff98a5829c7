// The pool of block reply buffers (src/proto/frame-pool.ts): a buffer given back is handed
// out again for a frame of its class, never while it is lent, and the spares are bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FramePool } from '../../src/proto/frame-pool.ts';
import { blockReplyFrame } from '../../src/proto/reply-frame.ts';

test('a frame given back is reused for the next frame of its class, with the exact length', () => {
  const pool = new FramePool();
  const a = pool.take(64 * 1024 + 9);
  assert.equal(a.length, 64 * 1024 + 9);
  const b = pool.take(64 * 1024 + 9);
  assert.notEqual(a.buffer, b.buffer, 'two frames lent at once share no memory');
  pool.give(a);
  const c = pool.take(40_000); // same class (up to 64 KiB + headroom)
  assert.equal(c.buffer, a.buffer);
  assert.equal(c.length, 40_000);
  const d = pool.take(200_000); // another class: not a's buffer
  assert.notEqual(d.buffer, a.buffer);
});

test('buffers too small or too large for a class are never pooled', () => {
  const pool = new FramePool();
  for (const n of [10, 8 * 1024, (1 << 20) + 100, 16 << 20]) {
    const f = pool.take(n);
    assert.equal(f.length, n);
    pool.give(f);
    assert.equal(pool.spareTotal, 0, `${n} bytes`);
  }
});

test('giving back twice, or a buffer the pool never lent, changes nothing', () => {
  const pool = new FramePool();
  const a = pool.take(100_000);
  pool.give(a);
  const spare = pool.spareTotal;
  assert.ok(spare > 100_000);
  pool.give(a);
  pool.give(Buffer.allocUnsafeSlow(128 * 1024 + 64));
  assert.equal(pool.spareTotal, spare);
  const b = pool.take(100_000);
  const c = pool.take(100_000);
  assert.equal(b.buffer, a.buffer);
  assert.notEqual(c.buffer, a.buffer, 'a buffer given back twice is lent only once');
});

test('spares stay under the byte bound', () => {
  const pool = new FramePool(1024 * 1024);
  const lent = Array.from({ length: 20 }, () => pool.take(200_000));
  for (const f of lent) pool.give(f);
  assert.ok(pool.spareTotal <= 1024 * 1024);
  assert.equal(pool.spareTotal, 3 * (256 * 1024 + 64));
});

test('no two frames lent at the same time overlap, whatever the order of takes and gives', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.constant(-1)), { maxLength: 200 }),
      (steps) => {
        const pool = new FramePool(2 * 1024 * 1024);
        const lent: { data: Uint8Array; fill: number }[] = [];
        let tag = 0;
        for (const s of steps) {
          if (s < 0) {
            const f = lent.shift();
            if (f) pool.give(f.data);
            continue;
          }
          const { data } = blockReplyFrame(tag, s, (n) => pool.take(n));
          const fill = tag++ % 251;
          data.fill(fill);
          lent.push({ data, fill });
        }
        // Each frame still lent holds its own bytes: nothing lent was handed out twice.
        for (const { data, fill } of lent) assert.ok(data.every((x) => x === fill));
      },
    ),
    { numRuns: 100 },
  );
});

test('spares are let go once no buffer was taken for a while', () => {
  const timers: (() => void)[] = [];
  const pool = new FramePool(8 * 1024 * 1024, (fn) => timers.push(fn));
  const a = pool.take(100_000);
  pool.give(a);
  assert.equal(timers.length, 1);
  assert.ok(pool.spareTotal > 0);
  // Used again before the timer fired: the spares stay, the timer is armed again.
  pool.give(pool.take(100_000));
  timers.shift()!();
  assert.ok(pool.spareTotal > 0);
  assert.equal(timers.length, 1);
  timers.shift()!();
  assert.equal(pool.spareTotal, 0);
  assert.equal(timers.length, 0);
  // A buffer lent before the trim and given back after it is a spare again.
  const b = pool.take(100_000);
  pool.give(b);
  assert.ok(pool.spareTotal > 0);
});
