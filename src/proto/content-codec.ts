// Content (a file's size, digest and block list) encoded and decoded by hand. A 2 GiB
// file's list has ~27,000 blocks and is stored three times (operation, head, file index):
// protobufjs spent ~45 ms on each encode (a writer operation and a 64-bit helper object per
// number) and ~25 ms on each decode. The bytes are exactly protobufjs's encoding of a
// Content (fields in number order, zeros and empty bytes left out as proto3 does); a property
// test compares the two. codec.ts splices them in where a message holds a Content.
import protobuf from 'protobufjs';
import type { Block, Content } from './types.ts';
import {
  bytesFieldLength,
  isUint,
  numberLength,
  varintLength,
  writeBytes,
  writeNumber,
  writeVarint,
} from './wire.ts';

const EMPTY = new Uint8Array(0);

const bytesLength = (b: Uint8Array) => bytesFieldLength(b.length);

function blockLength(b: Block): number {
  return numberLength(b.offset) + numberLength(b.length) + bytesLength(b.hash);
}

/**
 * The encoding of a Content, or null when a number is outside what the fast path writes
 * (negative, fractional, past 2^53 or 2^32): protobufjs then encodes it.
 */
function fastEncode(c: Content): Uint8Array | null {
  if (!isUint(c.size, Number.MAX_SAFE_INTEGER)) return null;
  let n = numberLength(c.size) + bytesLength(c.digest) + bytesLength(c.inlineData);
  // Indexed loops: a 2 GiB file's 27,000 blocks go through here before V8 has compiled it,
  // and for-of then allocated an iterator result per block (~4 MiB per encode).
  const blocks = c.blocks;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    if (!isUint(b.offset, Number.MAX_SAFE_INTEGER) || !isUint(b.length, 0xffffffff)) return null;
    const len = blockLength(b);
    n += 1 + varintLength(len) + len;
  }
  const out = Buffer.allocUnsafe(n);
  let at = writeNumber(out, 0, 0x08, c.size); // 1: size
  at = writeBytes(out, at, 0x12, c.digest); // 2: digest
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    out[at++] = 0x1a; // 3: a block (embedded message, written even when empty)
    at = writeVarint(out, at, blockLength(b));
    at = writeNumber(out, at, 0x08, b.offset); // Block 1: offset
    at = writeNumber(out, at, 0x10, b.length); // Block 2: length
    at = writeBytes(out, at, 0x1a, b.hash); // Block 3: hash
  }
  at = writeBytes(out, at, 0x22, c.inlineData); // 4: inline data
  if (at !== n) throw new Error(`content encoding: wrote ${at} of ${n} bytes`);
  return out;
}

/** Encode a Content exactly as protobufjs would (`fallback` is its encoder). */
export function encodeContent(c: Content, fallback: (c: Content) => Uint8Array): Uint8Array {
  return fastEncode(c) ?? fallback(c);
}

// Wire types.
const VARINT = 0;
const LEN = 2;

/**
 * Read the fields of one message, up to byte `end`. `field` reads the value of a field it
 * knows, with the wire type it expects, and returns true; anything else is skipped, as
 * protobufjs's generated decoders do. Malformed input throws.
 */
function eachField(r: protobuf.Reader, end: number, field: (n: number, wire: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.tag();
    if (!field(tag >>> 3, tag & 7)) r.skipType(tag & 7);
  }
  if (r.pos !== end) throw new RangeError('a field overruns its message');
}

function decodeBlock(r: protobuf.Reader, end: number): Block {
  const b: Block = { offset: 0, length: 0, hash: EMPTY };
  eachField(r, end, (n, wire) => {
    if (n === 1 && wire === VARINT) b.offset = r.uint64() as unknown as number;
    else if (n === 2 && wire === VARINT) b.length = r.uint32();
    else if (n === 3 && wire === LEN) b.hash = r.bytes();
    else return false;
    return true;
  });
  return b;
}

/**
 * Decode a Content (the bytes of `buf` from `start` to `end`). Like protobufjs's generated
 * decoder: fields by number, the last of a repeated scalar wins, unknown fields and fields
 * of an unexpected wire type skipped; anything malformed throws.
 */
export function decodeContent(buf: Uint8Array, start = 0, end = buf.length): Content {
  const r = protobuf.Reader.create(buf);
  r.pos = start;
  r.len = end;
  const c: Content = { size: 0, digest: EMPTY, blocks: [], inlineData: EMPTY };
  eachField(r, r.len, (n, wire) => {
    if (n === 1 && wire === VARINT) c.size = r.uint64() as unknown as number;
    else if (n === 2 && wire === LEN) c.digest = r.bytes();
    else if (n === 3 && wire === LEN) {
      const len = r.size();
      if (r.pos + len > r.len) throw new RangeError('a block overruns the content');
      c.blocks.push(decodeBlock(r, r.pos + len));
    } else if (n === 4 && wire === LEN) c.inlineData = r.bytes();
    else return false;
    return true;
  });
  return c;
}
