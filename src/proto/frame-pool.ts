// Buffers for block reply frames, reused once the socket has taken their bytes. Serving a
// 512 MiB file allocated ~8,000 fresh 64 KiB buffers: each new one is memory the kernel
// must fault in before the disk read lands in it, and V8 counts the total as external
// memory, so the sender ran a full collection every ~60 ms (~0.5 s of its main thread in
// one transfer). Buffers come in size classes (powers of two plus room for the frame's
// header); the spares kept are bounded in bytes, and let go once the pool sits unused (an
// idle daemon should not hold a transfer's buffers).

/** Room for a frame's header beside a power-of-two block. */
const HEADROOM = 64;
const MIN_CLASS = 14; // 16 KiB
const MAX_CLASS = 20; // 1 MiB: a run of blocks (node/content.ts), or the chunker's largest block

export class FramePool {
  private readonly spare: Buffer[][] = [];
  private spareBytes = 0;
  /** Buffers handed out and not yet given back, by their backing store. */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  private takes = 0;
  private trimArmed = false;

  /**
   * `later(fn)` runs fn after a while (a timer of the node's clock): spares are dropped when
   * no buffer was taken in such a while. Without it, spares are kept.
   */
  constructor(
    private readonly maxSpareBytes = 8 * 1024 * 1024,
    private readonly later: ((fn: () => void) => void) | null = null,
  ) {}

  /** A buffer of exactly `n` bytes, from the pool when one of its class is spare. */
  take(n: number): Buffer {
    this.takes++;
    const k = sizeClass(n);
    if (k < 0) return Buffer.allocUnsafe(n);
    const whole = this.spare[k]?.pop();
    if (whole) this.spareBytes -= whole.length;
    // allocUnsafeSlow: a backing store of its own, never a slice of node's shared pool.
    const buf = whole ?? Buffer.allocUnsafeSlow((1 << k) + HEADROOM);
    this.lent.add(buf.buffer);
    return buf.subarray(0, n);
  }

  /**
   * `frame` (from take) is no longer read by anyone: its buffer may be handed out again.
   * Anything else, or a buffer given back twice, is ignored.
   */
  give(frame: Uint8Array): void {
    const store = frame.buffer;
    // Only buffers take() made of a class are lent, so the class follows from the size.
    if (!this.lent.delete(store)) return;
    const k = sizeClass(store.byteLength - HEADROOM);
    if (this.spareBytes + store.byteLength > this.maxSpareBytes) return;
    this.spareBytes += store.byteLength;
    const list = this.spare[k] ?? [];
    this.spare[k] = list;
    list.push(Buffer.from(store as ArrayBuffer, 0, store.byteLength));
    this.armTrim();
  }

  private armTrim(): void {
    if (this.trimArmed || !this.later) return;
    this.trimArmed = true;
    const takes = this.takes;
    this.later(() => {
      this.trimArmed = false;
      if (this.takes !== takes) return this.armTrim();
      this.spare.length = 0;
      this.spareBytes = 0;
    });
  }

  /** Bytes held as spares (for tests). */
  get spareTotal(): number {
    return this.spareBytes;
  }
}

/** The class of a frame of `n` bytes, or -1 if it is not pooled (too small or too large). */
function sizeClass(n: number): number {
  if (n <= 1 << (MIN_CLASS - 1)) return -1;
  const k = Math.max(MIN_CLASS, Math.ceil(Math.log2(Math.max(1, n - HEADROOM))));
  return k > MAX_CLASS ? -1 : k;
}
