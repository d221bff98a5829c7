// A minimal protobuf writer for malformed messages: any field number with any wire type,
// lengths that lie, varints that never end. The real codec (src/proto/codec.ts) only
// writes well-typed messages, which is exactly what the fuzzer must not be limited to.

export const Wire = { Varint: 0, Fixed64: 1, Bytes: 2, StartGroup: 3, EndGroup: 4, Fixed32: 5 } as const;

export function varint(n: number | bigint): Buffer {
  let v = typeof n === 'bigint' ? BigInt.asUintN(64, n) : BigInt.asUintN(64, BigInt(Math.trunc(n)));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

export function tag(field: number, wire: number): Buffer {
  return varint((BigInt(field >>> 0) << 3n) | BigInt(wire & 7));
}

/** Length-delimited field; `declared` overrides the length written (a lie). */
export function bytesField(field: number, data: Uint8Array, declared?: number): Buffer {
  return Buffer.concat([tag(field, Wire.Bytes), varint(declared ?? data.length), data]);
}

export function varintField(field: number, n: number | bigint): Buffer {
  return Buffer.concat([tag(field, Wire.Varint), varint(n)]);
}

export function fixed64Field(field: number, bytes8: Uint8Array): Buffer {
  return Buffer.concat([tag(field, Wire.Fixed64), Buffer.from(bytes8).subarray(0, 8)]);
}

export function fixed32Field(field: number, bytes4: Uint8Array): Buffer {
  return Buffer.concat([tag(field, Wire.Fixed32), Buffer.from(bytes4).subarray(0, 4)]);
}

export function doubleField(field: number, x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return fixed64Field(field, b);
}

/** A varint whose continuation bit never stops (11 bytes: longer than any valid one). */
export const endlessVarint = Buffer.alloc(11, 0xff);

/** Frame body field numbers (proto/resonate.proto). */
export const FrameField = {
  hello: 1,
  proof: 2,
  welcome: 3,
  ops: 4,
  blockRequest: 5,
  blockReply: 6,
  gossip: 7,
} as const;
