// Answering a peer's block request: the block is read from whichever local file holds it
// (the hinted path first, then the block index) straight into the reply frame, whose
// buffer comes from a pool and goes back to it once the socket has taken the bytes.
import { FramePool } from '../proto/frame-pool.ts';
import { blockReplyFrame, missingReplyFrame } from '../proto/reply-frame.ts';
import type { Block, BlockRequest } from '../proto/types.ts';
import type { Env } from '../util/env.ts';
import type { LocalBlocks } from './local-blocks.ts';
import { LIMITS } from './validate.ts';

/** Spare reply buffers kept (a link's high-water mark's worth), and how long unused. */
const FRAME_POOL_BYTES = 8 * 1024 * 1024;
const FRAME_POOL_IDLE_MS = 2_000;

export class BlockServer {
  private readonly frames: FramePool;

  constructor(
    private readonly blocks: LocalBlocks,
    env: Env,
  ) {
    this.frames = new FramePool(FRAME_POOL_BYTES, (fn) => void env.setTimer(FRAME_POOL_IDLE_MS, fn));
  }

  /** The encoded reply: the block's bytes, or "missing" if no local file holds them now. */
  async serve(req: BlockRequest): Promise<Uint8Array> {
    if (req.runLengths.length > 0) return this.serveRun(req);
    if (req.length <= 0 || req.length > LIMITS.blockBytes || req.hash.length !== 32)
      return missingReplyFrame(req.id);
    const block = { offset: req.offsetHint, length: req.length, hash: req.hash };
    const hints = req.pathHint ? [req.pathHint] : [];
    return this.reply(req, async (data) => (await this.blocks.read(block, hints, data)) !== null);
  }

  /**
   * A run of blocks in one reply, read in one piece: only if the hinted file's index entry
   * (its stat unchanged) lists every one of them there, back to back, so that nothing is
   * served that the requester could not name by hash. Anything less is "missing".
   */
  private async serveRun(req: BlockRequest): Promise<Uint8Array> {
    const blocks = runBlocks(req);
    const run = blocks && (await this.blocks.trustedRun(blocks, 0, [req.pathHint], req.length));
    if (!run || run.count !== blocks.length) return missingReplyFrame(req.id);
    return this.reply(req, (data) => this.blocks.readRun(run, data));
  }

  /**
   * A reply frame from the pool whose data `fill` reads in (true if it could); the frame
   * goes back to the pool if it could not, or threw.
   */
  private async reply(req: BlockRequest, fill: (data: Uint8Array) => Promise<boolean>): Promise<Uint8Array> {
    const { frame, data } = blockReplyFrame(req.id, req.length, (n) => this.frames.take(n));
    let found = false;
    try {
      found = await fill(data);
    } finally {
      if (!found) this.frames.give(frame);
    }
    return found ? frame : missingReplyFrame(req.id);
  }

  /** A frame serve() made is with the kernel now: its buffer may be reused. */
  sent(frame: Uint8Array): void {
    this.frames.give(frame);
  }
}

/** The blocks a run request names, or null if it is malformed or out of bounds. */
function runBlocks(req: BlockRequest): Block[] | null {
  const n = req.runLengths.length;
  if (n < 2 || n > LIMITS.runBlocks || req.hash.length !== 32 * n || !req.pathHint) return null;
  const blocks: Block[] = [];
  let bytes = 0;
  for (let k = 0; k < n; k++) {
    const length = req.runLengths[k]!;
    if (length <= 0 || length > LIMITS.blockBytes) return null;
    blocks.push({ offset: req.offsetHint + bytes, length, hash: req.hash.subarray(32 * k, 32 * k + 32) });
    bytes += length;
  }
  return bytes === req.length && bytes <= LIMITS.runBytes ? blocks : null;
}
