// Every value stored in LevelDB is [format byte][CRC-32 of payload, big-endian][payload],
// so a torn or corrupted value is reported as such instead of decoded into garbage.
import { crc32 } from 'node:zlib';

export const RECORD_FORMAT = 1;
const HEADER = 5;

export class CorruptRecordError extends Error {
  readonly code = 'ERR_CORRUPT_RECORD';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`corrupt record at ${JSON.stringify(key)}: ${reason}`);
  }
}

export function sealRecord(payload: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out[0] = RECORD_FORMAT;
  out.writeUInt32BE(crc32(payload), 1);
  out.set(payload, HEADER);
  return out;
}

export function openRecord(key: string, value: Uint8Array): Uint8Array {
  if (value.length < HEADER) throw new CorruptRecordError(key, 'too short');
  if (value[0] !== RECORD_FORMAT) throw new CorruptRecordError(key, `unknown format ${value[0]}`);
  const payload = value.subarray(HEADER);
  const expected = Buffer.from(value.buffer, value.byteOffset, value.length).readUInt32BE(1);
  if (crc32(payload) !== expected) throw new CorruptRecordError(key, 'checksum mismatch');
  return payload;
}

// Text records are most of a change's records (clock, indexes, counts): encoded straight
// into the sealed value, and decoded from a view of it, with no intermediate copy.
export function sealText(text: string): Uint8Array {
  const out = Buffer.allocUnsafe(HEADER + Buffer.byteLength(text, 'utf8'));
  out.write(text, HEADER, 'utf8');
  out[0] = RECORD_FORMAT;
  out.writeUInt32BE(crc32(out.subarray(HEADER)), 1);
  return out;
}

export function openText(key: string, value: Uint8Array): string {
  const payload = openRecord(key, value);
  return Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8');
}
