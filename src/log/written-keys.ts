// The keys this process has written, as a Bloom filter, kept only while the store was
// opened on an empty log. On a first start every path is new and each of its records
// (head, file entry, inode, live-children count...) was looked up in LevelDB once only to
// find it absent: ~5 s of a 100,000-file scan's profile. A key the filter has never seen
// was never written (a Bloom filter has no false negatives), so it is absent without
// asking LevelDB. Past MAX_KEYS its false positives grow (0.4% at 700,000 keys, ~20% at
// 2 million) and the store drops it: from then on every read asks LevelDB, as before.

const BITS = 1 << 23; // 1 MiB
const HASHES = 6;
export const MAX_KEYS = 2_000_000;

export class WrittenKeys {
  private readonly bits = new Uint32Array(BITS / 32);
  private count = 0;

  /** More keys than the filter answers for well. */
  get full(): boolean {
    return this.count > MAX_KEYS;
  }

  add(key: string): void {
    this.count++;
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = ((h1 + i * h2) >>> 0) & (BITS - 1);
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  /** false: this key was never added. */
  mayHave(key: string): boolean {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = ((h1 + i * h2) >>> 0) & (BITS - 1);
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two 32-bit FNV-1a hashes of the UTF-16 code units, with different offsets (double hashing). */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b | 1) >>> 0];
}
