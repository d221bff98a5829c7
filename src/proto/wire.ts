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
