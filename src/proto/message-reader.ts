// Reading protobuf messages by hand, for the records decoded on hot paths (heads, file
// entries, operations): straight into the shapes of types.ts, where protobufjs built a
// message object, then a plain copy of it, then codec.ts a normalised one. The rules are
// protobufjs's generated decoders': fields by number, a field of an unexpected wire type or
// an unknown number skipped, a singular message merged with an earlier one, an embedded
// message confined to its length; anything malformed throws.
import protobuf from 'protobufjs';

export type Reader = protobuf.Reader;
export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;

export const readerOf = (buf: Uint8Array): Reader => protobuf.Reader.create(buf);

/** Enter an embedded message: the reader ends at its end until leave(). */
export function enter(r: Reader): number {
  const len = r.size();
  const end = r.pos + len;
  if (end > r.len) throw new RangeError('index out of range');
  const outer = r.len;
  r.len = end;
  return outer;
}

export function leave(r: Reader, outer: number): void {
  if (r.pos !== r.len) throw new RangeError('index out of range');
  r.len = outer;
}

/** Skip a field this decoder does not take (tag read already). */
export function skip(r: Reader, tag: number): void {
  r.skipType(tag & 7, 0, tag >>> 3);
}

/**
 * A uint64 as a number (protobufjs without Long), as codec.ts has always read them. Up to
 * 2^53 read here (every partial sum exact), past that by protobufjs (its own rounding).
 */
export function uint64(r: Reader): number {
  const buf = r.buf;
  const stop = Math.min(r.pos + 8, r.len);
  let v = 0;
  let scale = 1;
  for (let at = r.pos; at < stop; at++) {
    const b = buf[at]!;
    v += (b & 127) * scale;
    if (b < 128) {
      if (v > Number.MAX_SAFE_INTEGER) break;
      r.pos = at + 1;
      return v;
    }
    scale *= 128;
  }
  return r.uint64() as unknown as number;
}

// Origins ("<node id>~<log id>") name the few replicas of a cluster and recur in every
// dot and clock: the last few read are kept, so the same bytes give the same string
// without decoding it again (and a keyed store with it needs no string-table lookup).
const ORIGINS = 8;
const originBytes: Uint8Array[] = [];
const originStrings: string[] = [];
let nextOrigin = 0;

/** A string field that names an origin: as r.stringVerify(), remembered. */
export function origin(r: Reader): string {
  const field = r.pos;
  const len = r.size();
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError('index out of range');
  const buf = r.buf;
  for (let i = 0; i < originBytes.length; i++) {
    const known = originBytes[i]!;
    if (known.length !== len) continue;
    let j = 0;
    while (j < len && known[j] === buf[start + j]) j++;
    if (j === len) {
      r.pos = end;
      return originStrings[i]!;
    }
  }
  r.pos = field;
  const s = r.stringVerify(); // reads the length again; throws on bad UTF-8
  if (len <= 64) {
    originBytes[nextOrigin] = new Uint8Array(buf.subarray(start, end)); // a copy, not a view
    originStrings[nextOrigin] = s;
    nextOrigin = (nextOrigin + 1) % ORIGINS;
  }
  return s;
}

/** Step over a bytes field, returning where its bytes start (they end at the new r.pos). */
export function bytesStart(r: Reader): number {
  const len = r.size();
  const start = r.pos;
  if (start + len > r.len) throw new RangeError('index out of range');
  r.pos = start + len;
  return start;
}

/** A double as codec.ts normalises it: NaN and ±Infinity read as 0. */
export function finiteDouble(r: Reader): number {
  const v = r.double();
  return Number.isFinite(v) ? v : 0;
}
