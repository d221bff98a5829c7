// A block reply frame built around its block, by hand: the serving side reads the block
// from disk straight into the frame, where protobufjs copied it twice (into its writer,
// then into the finished buffer) and allocated both: ~0.3 s of the sender's main thread
// and much of its garbage in a 512 MiB transfer. The bytes are exactly protobufjs's
// encoding of Frame { block_reply } (a test compares them).
import { isUint, numberLength, varintLength, writeNumber, writeVarint } from './wire.ts';

const FRAME_BLOCK_REPLY = 0x32; // Frame 6: block_reply, length-delimited
const REPLY_ID = 0x08; // BlockReply 1: id
const REPLY_DATA = 0x12; // BlockReply 2: data
const REPLY_MISSING = 0x18; // BlockReply 3: missing

/**
 * A reply carrying `length` bytes of data: `data` is the view of `frame` to fill with them.
 * `alloc` gives the frame's buffer (a FramePool's, to reuse it once sent).
 */
export function blockReplyFrame(
  id: number,
  length: number,
  alloc: (n: number) => Buffer = Buffer.allocUnsafe,
): { frame: Uint8Array; data: Uint8Array } {
  if (!isUint(id, 0xffffffff) || !isUint(length, 0x7fffffff))
    throw new RangeError('block reply out of range');
  const inner = numberLength(id) + (length === 0 ? 0 : 1 + varintLength(length) + length);
  const frame = alloc(1 + varintLength(inner) + inner);
  frame[0] = FRAME_BLOCK_REPLY;
  let at = writeVarint(frame, 1, inner);
  at = writeNumber(frame, at, REPLY_ID, id);
  if (length > 0) {
    frame[at++] = REPLY_DATA;
    at = writeVarint(frame, at, length);
  }
  if (at + length !== frame.length)
    throw new Error(`block reply: wrote ${at} + ${length} of ${frame.length}`);
  return { frame, data: frame.subarray(at) };
}

/** A reply saying this node does not have the block. */
export function missingReplyFrame(id: number): Uint8Array {
  if (!isUint(id, 0xffffffff)) throw new RangeError('block reply out of range');
  const inner = numberLength(id) + 2;
  const frame = Buffer.allocUnsafe(1 + varintLength(inner) + inner);
  frame[0] = FRAME_BLOCK_REPLY;
  let at = writeVarint(frame, 1, inner);
  at = writeNumber(frame, at, REPLY_ID, id);
  frame[at++] = REPLY_MISSING;
  frame[at++] = 1;
  return frame;
}
