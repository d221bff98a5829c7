// The block requests of one peer, queued by its Session and served by the node; a peer
// with more requests queued than any honest fetcher sends is dropped.
import type { PeerLink } from '../net/types.ts';
import { missingReplyFrame } from '../proto/reply-frame.ts';
import type { BlockRequest } from '../proto/types.ts';

const SERVE_PARALLEL = 8;
/** More outstanding requests than any honest fetcher sends (it keeps 128 in flight). */
const MAX_QUEUED_BLOCK_REQUESTS = 1024;

/** The part of a SessionHost that serves blocks. */
export interface BlockServing {
  /** The encoded reply frame (proto/reply-frame.ts): the block is read straight into it. */
  serveBlock(req: BlockRequest): Promise<Uint8Array>;
  /** A frame serveBlock made is with the kernel now: its buffer may be reused. */
  frameSent?(frame: Uint8Array): void;
}

export class BlockRequestQueue {
  private serving = 0;
  private readonly queue: BlockRequest[] = [];

  constructor(
    private readonly link: PeerLink,
    private readonly host: BlockServing,
    private readonly closed: () => boolean,
  ) {}

  /** Requests being served or waiting. */
  get load(): number {
    return this.serving + this.queue.length;
  }

  /** Queue a request; false if too many are queued already (the peer broke the protocol). */
  add(req: BlockRequest): boolean {
    if (this.queue.length >= MAX_QUEUED_BLOCK_REQUESTS) return false;
    this.queue.push(req);
    this.serve();
    return true;
  }

  /**
   * Answer block requests a few at a time, in order; when the link's buffer is full, stop
   * reading more blocks until it drains (a fast requester cannot make us buffer a file).
   */
  private serve(): void {
    while (this.serving < SERVE_PARALLEL && this.queue.length && !this.closed()) {
      const req = this.queue.shift()!;
      this.serving++;
      this.host
        .serveBlock(req)
        .catch(() => missingReplyFrame(req.id))
        .then(async (frame) => {
          if (!this.sendEncoded(frame, () => this.host.frameSent?.(frame))) await this.link.drained();
        })
        .finally(() => {
          this.serving--;
          this.serve();
        });
    }
  }

  private sendEncoded(frame: Uint8Array, onSent?: () => void): boolean {
    if (this.closed()) return false;
    return this.link.sendEncoded(frame, onSent);
  }
}
