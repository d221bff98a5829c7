// DirectStage: whatever order and shape the writes come in, the file ends up with exactly
// the bytes written (a later write over an earlier one wins), full aligned chunks go out as
// direct writes, and the rest (tail, copied bytes, no free buffer, a refusing file) goes
// through the ordinary write. A fake disk records every write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CHUNK, DIRECT_ALIGN, DirectStage, type StageSlots } from '../../src/fs/direct-write.ts';
import { toFsError } from '../../src/fs/disk-errors.ts';
import { createRng } from '../harness/prng.ts';

interface Disk {
  bytes: Uint8Array;
  direct: { pos: number; len: number }[];
  buffered: { pos: number; len: number }[];
  stage: DirectStage;
  slots: FakeSlots;
}

class FakeSlots implements StageSlots {
  taken = 0;
  constructor(private free: number) {}
  take(): Uint8Array | null {
    if (this.free === 0) return null;
    this.free--;
    this.taken++;
    // Someone's old bytes: the stage must not let them through.
    return new Uint8Array(CHUNK).fill(0xee);
  }
  give(): void {
    this.free++;
    this.taken--;
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function disk(
  size: number,
  o: { slots?: number; directError?: (pos: number) => Error | null; buffered?: Uint8Array } = {},
): Disk {
  const bytes = o.buffered ?? new Uint8Array(size + 4 * CHUNK);
  const slots = new FakeSlots(o.slots ?? 8);
  const d: Disk = { bytes, direct: [], buffered: [], slots, stage: null as unknown as DirectStage };
  d.stage = new DirectStage(
    size,
    async (buf, pos) => {
      await tick(); // completes later, like the thread pool
      const err = o.directError?.(pos);
      if (err) throw err;
      assert.equal(pos % DIRECT_ALIGN, 0, 'direct write at an aligned offset');
      assert.equal(buf.length % DIRECT_ALIGN, 0, 'direct write of an aligned length');
      d.direct.push({ pos, len: buf.length });
      bytes.set(buf, pos);
      return buf.length;
    },
    async (buf, pos) => {
      d.buffered.push({ pos, len: buf.length });
      bytes.set(buf, pos);
    },
    slots,
  );
  return d;
}

/** Byte-for-byte (deepEqual over MiBs of bytes is slow). */
function sameBytes(got: Uint8Array, want: Uint8Array): void {
  const a = Buffer.from(got.buffer, got.byteOffset, got.length);
  const b = Buffer.from(want.buffer, want.byteOffset, want.length);
  if (a.equals(b)) return;
  const i = a.findIndex((x, k) => x !== b[k]);
  assert.fail(`${got.length} bytes, want ${want.length}; first difference at byte ${i}`);
}

const pattern = (n: number, seed = 1): Uint8Array => createRng(seed).bytes(n);

test('pieces in any order: every full chunk goes direct, the unaligned tail through the cache', async () => {
  const size = 5 * CHUNK + 12345;
  const data = pattern(size);
  const d = disk(size);
  // 300 KiB pieces, odd ones first, all written at once
  const pieces: [number, number][] = [];
  for (let at = 0; at < size; at += 300 * 1024) pieces.push([at, Math.min(size, at + 300 * 1024)]);
  const order = [...pieces.filter((_, i) => i % 2 === 1), ...pieces.filter((_, i) => i % 2 === 0)];
  await Promise.all(order.map(([a, b]) => d.stage.write(data.subarray(a, b), a)));
  await d.stage.flush();
  sameBytes(d.bytes.subarray(0, size), data);
  assert.deepEqual(
    d.direct.map((w) => w.pos).sort((x, y) => x - y),
    [0, 1, 2, 3, 4].map((c) => c * CHUNK),
  );
  assert.ok(d.direct.every((w) => w.len === CHUNK));
  assert.deepEqual(d.buffered, [{ pos: 5 * CHUNK, len: 12345 }]);
  assert.equal(d.direct.length, 5);
  assert.equal(d.slots.taken, 0, 'every staging buffer given back');
});

test('copied bytes start no chunk of their own, but join one already staged', async () => {
  const size = 3 * CHUNK;
  const data = pattern(size, 7);
  const d = disk(size);
  // chunk 0: all copied -> through the cache
  await d.stage.write(data.subarray(0, CHUNK), 0, true);
  // chunk 1: a remote piece first, then copied bytes complete it -> direct
  await d.stage.write(data.subarray(CHUNK, CHUNK + 1000), CHUNK);
  await d.stage.write(data.subarray(CHUNK + 1000, 2 * CHUNK), CHUNK + 1000, true);
  // chunk 2: copied first (-> cache), then a remote piece follows it there
  await d.stage.write(data.subarray(2 * CHUNK, 2 * CHUNK + 5), 2 * CHUNK, true);
  await d.stage.write(data.subarray(2 * CHUNK + 5, 3 * CHUNK), 2 * CHUNK + 5);
  await d.stage.flush();
  sameBytes(d.bytes.subarray(0, size), data);
  assert.deepEqual(d.direct, [{ pos: CHUNK, len: CHUNK }]);
  assert.deepEqual(
    d.buffered.map((w) => w.pos),
    [0, 2 * CHUNK, 2 * CHUNK + 5],
  );
});

test('no free staging buffer: the chunk goes through the cache, and stays there', async () => {
  const size = 2 * CHUNK;
  const data = pattern(size, 3);
  const d = disk(size, { slots: 1 });
  await d.stage.write(data.subarray(0, 10), 0); // takes the only buffer
  await d.stage.write(data.subarray(CHUNK, CHUNK + 10), CHUNK); // none left
  await d.stage.write(data.subarray(10, CHUNK), 10); // completes chunk 0 -> direct, buffer back
  await d.stage.write(data.subarray(CHUNK + 10, 2 * CHUNK), CHUNK + 10); // chunk 1 stays cached
  await d.stage.flush();
  sameBytes(d.bytes.subarray(0, size), data);
  assert.deepEqual(d.direct, [{ pos: 0, len: CHUNK }]);
  assert.deepEqual(d.buffered, [
    { pos: CHUNK, len: 10 },
    { pos: CHUNK + 10, len: CHUNK - 10 },
  ]);
});

const rawEinval = Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' });
for (const [shape, einval] of [
  ['raw', rawEinval],
  ['as FdIo passes it (an FsError, the errno its cause)', toFsError(rawEinval, 'big.bin')],
] as const)
  test(`a file refusing direct writes (EINVAL, ${shape}) is written through the cache from then on`, async () => {
    const size = 3 * CHUNK;
    const data = pattern(size, 5);
    const d = disk(size, { directError: () => einval });
    for (let c = 0; c < 3; c++) await d.stage.write(data.subarray(c * CHUNK, (c + 1) * CHUNK), c * CHUNK);
    await d.stage.flush();
    sameBytes(d.bytes.subarray(0, size), data);
    assert.equal(d.direct.length, 0);
    assert.deepEqual(
      d.buffered.map((w) => w.pos),
      [0, CHUNK, 2 * CHUNK],
    );
    assert.equal(d.slots.taken, 0);
  });

test('any other direct-write error reaches flush and every later write', async () => {
  const size = 3 * CHUNK;
  const eio = Object.assign(new Error('EIO: i/o error, write'), { code: 'ERR_IO' });
  const d = disk(size, { directError: (pos) => (pos === CHUNK ? eio : null) });
  await d.stage.write(pattern(CHUNK), 0);
  // Completing a chunk does not wait for its write (the fetch window moves on): the
  // failure surfaces at the flush, and any write after it is refused.
  await d.stage.write(pattern(CHUNK), CHUNK);
  await assert.rejects(d.stage.flush(), /EIO/);
  await assert.rejects(d.stage.write(pattern(100), 2 * CHUNK), /EIO/);
  assert.equal(d.slots.taken, 0);
});

test('no free buffer while our own chunks are being written: the next chunk waits for one', async () => {
  const size = 3 * CHUNK;
  const data = pattern(size, 4);
  const d = disk(size, { slots: 1 });
  // Each write completes its chunk; the direct write of the one before still holds the
  // only buffer, so the next waits for it instead of going through the page cache.
  await Promise.all(
    [0, 1, 2].map((c) => d.stage.write(data.subarray(c * CHUNK, (c + 1) * CHUNK), c * CHUNK)),
  );
  await d.stage.flush();
  sameBytes(d.bytes.subarray(0, size), data);
  assert.deepEqual(
    d.direct.map((w) => w.pos),
    [0, CHUNK, 2 * CHUNK],
  );
  assert.deepEqual(d.buffered, []);
  assert.equal(d.slots.taken, 0);
});

test('a write over a chunk already gone direct lands after it', async () => {
  const size = CHUNK;
  const d = disk(size);
  const full = d.stage.write(new Uint8Array(CHUNK).fill(1), 0); // direct write still running
  const again = d.stage.write(new Uint8Array(100).fill(2), 500);
  await Promise.all([full, again]);
  await d.stage.flush();
  assert.deepEqual(d.bytes.subarray(500, 600), new Uint8Array(100).fill(2));
  assert.equal(d.bytes[499], 1);
  assert.equal(d.bytes[600], 1);
});

test('flush writes what is staged, unwritten parts as zeros (a hole), and bytes past the size', async () => {
  const size = CHUNK + 8192;
  const d = disk(size);
  d.bytes.fill(0x55);
  await d.stage.write(new Uint8Array([9, 9, 9]), 100);
  await d.stage.write(new Uint8Array([7, 7]), size - 1); // one byte in, one past the size
  await d.stage.flush();
  assert.deepEqual([...d.bytes.subarray(98, 104)], [0, 0, 9, 9, 9, 0]);
  assert.equal(d.bytes[size - 1], 7);
  assert.equal(d.bytes[size], 7);
  assert.equal(d.slots.taken, 0);
});

test('close drops what is staged and gives every buffer back', async () => {
  const d = disk(4 * CHUNK);
  await d.stage.write(new Uint8Array(10), 0);
  await d.stage.write(new Uint8Array(10), 2 * CHUNK);
  assert.equal(d.slots.taken, 2);
  await d.stage.close();
  assert.equal(d.slots.taken, 0);
  assert.equal(d.direct.length + d.buffered.length, 0);
});

test('property: any split, order, copied flags and buffer count give the same bytes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 * CHUNK + 5000 }),
      fc.array(fc.integer({ min: 700, max: 1_500_000 }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 1000 }),
      async (size, cuts, copied, slots, seed) => {
        const data = pattern(size, seed + 1);
        const pieces: [number, number][] = [];
        let at = 0;
        for (let i = 0; at < size; i++) {
          const n = Math.min(size - at, cuts[i % cuts.length]!);
          pieces.push([at, at + n]);
          at += n;
        }
        // a deterministic shuffle from the seed
        const rng = createRng(seed);
        for (let i = pieces.length - 1; i > 0; i--) {
          const j = rng.int(0, i);
          [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
        }
        const d = disk(size, { slots });
        await Promise.all(
          pieces.map(([a, b], i) => d.stage.write(data.subarray(a, b), a, copied[i % copied.length])),
        );
        await d.stage.flush();
        sameBytes(d.bytes.subarray(0, size), data);
        assert.equal(d.slots.taken, 0);
        for (const w of d.direct) assert.equal(w.pos % CHUNK, 0);
      },
    ),
    { numRuns: 100, seed: 20261127 },
  );
});
