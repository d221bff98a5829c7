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

export function sealText(text: string): Uint8Array {
  return sealRecord(Buffer.from(text, 'utf8'));
}

export function openText(key: string, value: Uint8Array): string {
  return Buffer.from(openRecord(key, value)).toString('utf8');
}
