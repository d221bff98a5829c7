// Dot and Clock, encoded and decoded by hand for the records that hold them (head-codec.ts,
// op-codec.ts). Encoding gives protobufjs's bytes exactly; a property test compares them.
import { enter, LEN, leave, origin, type Reader, skip, uint64, VARINT } from './message-reader.ts';
import type { Clock, Dot } from './types.ts';
import {
  MAX_U64,
  messageFieldLength,
  stringFieldLength,
  Unwritable,
  uintFieldLength,
  utf8Length,
  varintLength,
  writeFieldHead,
  writeNumber,
  writeString,
  writeVarint,
} from './wire.ts';

export const dotLength = (d: Dot): number => stringFieldLength(d.origin) + uintFieldLength(d.seq, MAX_U64);

/** A Dot as the embedded message of field `tag` (written even when empty). */
export function writeDot(out: Buffer, at: number, tag: number, d: Dot): number {
  at = writeFieldHead(out, at, tag, dotLength(d));
  at = writeString(out, at, 0x0a, d.origin); // 1: origin
  return writeNumber(out, at, 0x10, d.seq); // 2: seq
}

/** A map entry: protobufjs writes its key and value even when they are empty or 0. */
function vvEntryLength(key: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_U64) throw new Unwritable(`clock entry ${v}`);
  const k = utf8Length(key);
  return 1 + varintLength(k) + k + 1 + varintLength(v);
}

// for-in, not Object.keys: the same order for a plain object, and V8 reads each value
// through the object's enum cache instead of a generic keyed lookup.
export function clockLength(c: Clock): number {
  let n = 0;
  const vv = c.vv;
  for (const key in vv) n += messageFieldLength(vvEntryLength(key, vv[key]!));
  for (const d of c.except) n += messageFieldLength(dotLength(d));
  return n;
}

export function writeClock(out: Buffer, at: number, tag: number, c: Clock): number {
  at = writeFieldHead(out, at, tag, clockLength(c));
  const vv = c.vv;
  for (const key in vv) {
    const v = vv[key]!;
    at = writeFieldHead(out, at, 0x0a, vvEntryLength(key, v)); // 1: vv entry
    const k = utf8Length(key);
    at = writeFieldHead(out, at, 0x0a, k); // key
    if (k === key.length) for (let i = 0; i < k; i++) out[at + i] = key.charCodeAt(i);
    else out.write(key, at, k, 'utf8');
    at += k;
    out[at++] = 0x10; // value
    at = writeVarint(out, at, v);
  }
  for (const d of c.except) at = writeDot(out, at, 0x12, d); // 2: except
  return at;
}

export const newDot = (): Dot => ({ origin: '', seq: 0 });
export const newClock = (): Clock => ({ vv: {}, except: [] });

/** Read an embedded Dot into `d` (merging, as protobufjs does with a repeated field). */
export function readDot(r: Reader, d: Dot): Dot {
  const outer = enter(r);
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const n = tag >>> 3;
    if (n === 1 && wire === LEN) d.origin = origin(r);
    else if (n === 2 && wire === VARINT) d.seq = uint64(r);
    else skip(r, tag);
  }
  leave(r, outer);
  return d;
}

/**
 * Read an embedded Clock into `c` (merging). Map entries go to `vv` in arrival order, the
 * last value of a key winning; a "__proto__" key is dropped, as codec.ts always did. Zeros
 * stay until pruneClock, once the whole record is read, so a later entry of the same key
 * still replaces one.
 */
export function readClock(r: Reader, c: Clock): Clock {
  const outer = enter(r);
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const n = tag >>> 3;
    if (n === 1 && wire === LEN) {
      const entryOuter = enter(r);
      let key = '';
      let v = 0;
      while (r.pos < r.len) {
        const t = r.tag();
        if (t >>> 3 === 1 && (t & 7) === LEN) key = origin(r);
        else if (t >>> 3 === 2 && (t & 7) === VARINT) v = uint64(r);
        else skip(r, t);
      }
      leave(r, entryOuter);
      if (key !== '__proto__') c.vv[key] = v;
    } else if (n === 2 && wire === LEN) c.except.push(readDot(r, newDot()));
    else skip(r, tag);
  }
  leave(r, outer);
  return c;
}

/** Drop the zero entries a Clock was read with (a clock lists only positive counters). */
export function pruneClock(c: Clock): Clock {
  for (const key in c.vv) {
    if (c.vv[key] !== 0) continue;
    const vv: Record<string, number> = {};
    for (const k of Object.keys(c.vv)) if (c.vv[k] !== 0) vv[k] = c.vv[k]!;
    c.vv = vv;
    break;
  }
  return c;
}
