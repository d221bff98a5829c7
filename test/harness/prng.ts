// A small seeded PRNG (sfc32) so test data and fault injection are reproducible: the same
// seed gives the same bytes and the same choices on every machine and run.

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** n pseudo-random bytes. */
  bytes(n: number): Buffer;
}

/** FNV-1a, to turn string seeds ("file-a.bin") into numbers. */
function hashSeed(seed: number | string): number {
  if (typeof seed === 'number') return seed >>> 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function createRng(seed: number | string): Rng {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = hashSeed(seed);
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) u32(); // mix the seed in
  return {
    u32,
    float: () => u32() / 2 ** 32,
    int: (min, max) => min + Math.floor((u32() / 2 ** 32) * (max - min + 1)),
    bytes(n) {
      const out = Buffer.allocUnsafe(n);
      let i = 0;
      for (; i + 4 <= n; i += 4) out.writeUInt32LE(u32(), i);
      if (i < n) {
        const last = u32();
        for (let k = 0; i < n; i++, k++) out[i] = (last >>> (8 * k)) & 0xff;
      }
      return out;
    },
  };
}
