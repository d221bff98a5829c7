// The sending half of a link: frames handed to ws, the bytes not yet with the kernel
// counted (backpressure), waiters woken once that count falls to the low-water mark, and
// the frames of one turn of the event loop corked into one socket write.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

export class LinkWriter {
  /** Bytes handed to ws and not yet to the kernel. */
  pending = 0;
  private drainers: (() => void)[] = [];
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly raw: Duplex | null,
    private readonly lowWaterBytes: number,
    /** A write completed while backlogged: the peer is reading (TCP acks). */
    private readonly progress: () => void,
  ) {}

  write(bytes: Uint8Array, onSent?: () => void): void {
    const n = bytes.length;
    this.pending += n;
    this.corkUntilNextTick();
    // The callback runs once the bytes are handed to the kernel (or the write failed):
    // that is our drain signal, no polling.
    this.ws.send(bytes, { binary: true }, () => {
      onSent?.();
      if (this.pending >= this.lowWaterBytes) this.progress();
      this.pending -= n;
      if (this.pending <= this.lowWaterBytes && this.drainers.length > 0) this.wakeAll();
    });
  }

  /** Resolves once the backlog is at most the low-water mark (or the link ended: `ended`). */
  drained(ended: boolean): Promise<void> {
    if (ended || this.pending <= this.lowWaterBytes) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  wakeAll(): void {
    const waiting = this.drainers;
    this.drainers = [];
    for (const resolve of waiting) resolve();
  }

  /**
   * Frames sent in one turn of the event loop (a burst of block requests or replies) reach
   * the kernel in one write: each socket write costs a syscall and a wake-up of the peer.
   */
  private corkUntilNextTick(): void {
    const socket = this.raw;
    if (this.corked || !socket) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
