// A bounded cache of recently read LevelDB values, absent keys included, for Store's
// synchronous reads. The same records are read again and again while a change is recorded,
// ingested and laid out (a head ~7 times in a start-up scan: 1.1 million of its 1.6 million
// reads were repeats). It is write-through: every committed write replaces its key here,
// after the batch succeeded, so a hit is always what LevelDB holds. A cached value is handed
// to every reader (and what it decodes to may view it): callers treat it as read-only.

/** A cached "no such key". */
const ABSENT: unique symbol = Symbol('absent');

export class ReadCache {
  private readonly map = new Map<string, Uint8Array | typeof ABSENT>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 16_384,
    private readonly maxBytes = 4 * 1024 * 1024,
    /** Larger values (a big file's block list) are read from LevelDB each time. */
    private readonly maxValueBytes = 16 * 1024,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The cached value: bytes, null for a key known absent, undefined if not cached. */
  get(key: string): Uint8Array | null | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    return v === ABSENT ? null : v;
  }

  /** Remember what LevelDB holds for key now (null: nothing); committed batches: setBatch. */
  set(key: string, value: Uint8Array | null): void {
    this.drop(key);
    if (value !== null && value.length > this.maxValueBytes) return;
    // A view into a larger buffer (an 8 KiB slab of Buffer's pool, say) kept as is would
    // keep that whole buffer alive (a 100,000-file scan: ~20 MiB of slabs for ~4 MiB of
    // values). Keep its bytes alone.
    if (value !== null && value.byteLength !== value.buffer.byteLength) value = new Uint8Array(value);
    this.keep(key, value);
    this.bounded();
  }

  /**
   * Remember what a committed batch wrote. The values are copied into one buffer, not one
   * each: a folder rename of 1,000 files commits ~7,000 records, and an ArrayBuffer apiece
   * took ~17 ms of the sender's path to sending its RENAME. The records of one batch are
   * cached together and age together, so the buffer outlives its last cached record by
   * little (a record written again later leaves it early).
   */
  setBatch(entries: readonly (readonly [string, Uint8Array | null])[]): void {
    let total = 0;
    for (const [, v] of entries) if (v !== null && v.length <= this.maxValueBytes) total += v.length;
    const slab = new Uint8Array(total);
    let at = 0;
    for (const [key, v] of entries) {
      this.drop(key);
      if (v === null) this.keep(key, null);
      else if (v.length <= this.maxValueBytes) {
        slab.set(v, at);
        this.keep(key, slab.subarray(at, at + v.length));
        at += v.length;
      }
    }
    this.bounded();
  }

  /** Cache `value` (null: absent) for a key just dropped. */
  private keep(key: string, value: Uint8Array | null): void {
    this.map.set(key, value ?? ABSENT);
    this.bytes += value?.length ?? 0;
  }

  private bounded(): void {
    if (this.map.size > this.maxEntries || this.bytes > this.maxBytes) this.evict();
  }

  /**
   * Oldest first (a Map iterates in insertion order), down to 7/8 of the limits at once:
   * each pass starts over the Map's deleted slots, so evicting one entry per insert was
   * quadratic.
   */
  private evict(): void {
    const entries = (this.maxEntries * 7) / 8;
    const bytes = (this.maxBytes * 7) / 8;
    for (const [k] of this.map) {
      if (this.map.size <= entries && this.bytes <= bytes) break;
      this.drop(k);
    }
  }

  /** Stop caching key (its value changed and is not worth keeping). */
  forget(key: string): void {
    this.drop(key);
  }

  private drop(key: string): void {
    const old = this.map.get(key);
    if (old === undefined) return;
    this.map.delete(key);
    if (old !== ABSENT) this.bytes -= old.length;
  }
}
