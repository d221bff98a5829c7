// Writing protobuf's wire format by hand, for the few messages encoded on hot paths
// (content-codec.ts, reply-frame.ts). proto3: a field holding its default (0, empty) is
// not written, and fields go in number order, as protobufjs writes them.

export function varintLength(v: number): number {
  let n = 1;
  while (v > 127) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v > 127) {
    // & works modulo 2^32, which 128 divides: the low seven bits are right for any v < 2^53.
    out[at++] = (v & 127) | 128;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

export const isUint = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;

/** The largest value the hand encoders write for a uint64 (past it, protobufjs rounds). */
export const MAX_U64 = Number.MAX_SAFE_INTEGER;
export const MAX_U32 = 0xffffffff;
/** Enums are int32 on the wire: a negative one takes ten bytes, which protobufjs writes. */
export const MAX_ENUM = 0x7fffffff;

/** Bytes a number field takes (tag of one byte). */
export const numberLength = (v: number) => (v === 0 ? 0 : 1 + varintLength(v));
/** Bytes a bytes field of this length takes (tag of one byte). */
export const bytesFieldLength = (n: number) => (n === 0 ? 0 : 1 + varintLength(n) + n);

export function writeNumber(out: Uint8Array, at: number, tag: number, v: number): number {
  if (v === 0) return at;
  out[at++] = tag;
  return writeVarint(out, at, v);
}

export function writeBytes(out: Uint8Array, at: number, tag: number, b: Uint8Array): number {
  if (b.length === 0) return at;
  out[at++] = tag;
  at = writeVarint(out, at, b.length);
  out.set(b, at);
  return at + b.length;
}

/**
 * Thrown by a hand encoder's sizing pass for a value it does not write the way protobufjs
 * would (a number outside the fast path, a string with a lone surrogate): the caller then
 * encodes the message with protobufjs.
 */
export class Unwritable extends Error {}

/** UTF-8 length of a well-formed string; a lone surrogate is Unwritable. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c < 0xd800 || c > 0xdfff) n += 2;
    else if (c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 4 bytes for 2 units
      i++;
    } else throw new Unwritable('lone surrogate');
  }
  return n;
}

/** Bytes a string field takes (tag of one byte; "" is not written). */
export function stringFieldLength(s: string): number {
  if (s.length === 0) return 0;
  const n = utf8Length(s);
  return 1 + varintLength(n) + n;
}

export function writeString(out: Buffer, at: number, tag: number, s: string): number {
  if (s.length === 0) return at;
  const n = utf8Length(s);
  out[at++] = tag;
  at = writeVarint(out, at, n);
  if (n === s.length) for (let i = 0; i < n; i++) out[at + i] = s.charCodeAt(i);
  else out.write(s, at, n, 'utf8');
  return at + n;
}

/** A number field as protobufjs writes uint64 (up to 2^53) or uint32; 0 is not written. */
export function uintFieldLength(v: number, max: number): number {
  if (!isUint(v, max)) throw new Unwritable(`number ${v}`);
  return numberLength(v);
}

/** A double field: protobufjs leaves out +0 only (-0 is written); NaN and ±Infinity go to it. */
export function doubleFieldLength(v: number): number {
  if (!Number.isFinite(v)) throw new Unwritable(`double ${v}`);
  return Object.is(v, 0) ? 0 : 9;
}

export function writeDouble(out: Buffer, at: number, tag: number, v: number): number {
  if (Object.is(v, 0)) return at;
  out[at] = tag;
  out.writeDoubleLE(v, at + 1);
  return at + 9;
}

/** Bytes an embedded message (or an explicitly present bytes field) of this length takes. */
export const messageFieldLength = (n: number) => 1 + varintLength(n) + n;

export function writeFieldHead(out: Uint8Array, at: number, tag: number, n: number): number {
  out[at++] = tag;
  return writeVarint(out, at, n);
}

/** A bytes field with explicit presence (null: absent; empty: written, as `optional`). */
export const presentBytesLength = (b: Uint8Array | null) => (b === null ? 0 : messageFieldLength(b.length));

export function writePresentBytes(out: Uint8Array, at: number, tag: number, b: Uint8Array | null): number {
  if (b === null) return at;
  at = writeFieldHead(out, at, tag, b.length);
  out.set(b, at);
  return at + b.length;
}
