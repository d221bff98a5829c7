// Operation records (with a RENAME's entries) encoded and decoded by hand: every operation
// is encoded once where it is made and decoded wherever it is read (log reads, every frame
// of ops a peer sends). Bytes exactly protobufjs's, as in head-codec.ts.
import { clockLength, newClock, pruneClock, readClock, writeClock } from './clock-codec.ts';
import { type ContentEncoder, contentOf } from './head-codec.ts';
import {
  bytesStart,
  enter,
  FIXED64,
  finiteDouble,
  LEN,
  leave,
  type Reader,
  readerOf,
  skip,
  uint64,
  VARINT,
} from './message-reader.ts';
import type { Clock, Kind, Operation, RenameEntry } from './types.ts';
import {
  doubleFieldLength,
  messageFieldLength,
  presentBytesLength,
  stringFieldLength,
  uintFieldLength,
  writeDouble,
  writeFieldHead,
  writeNumber,
  writePresentBytes,
  writeString,
} from './wire.ts';

const SAFE = Number.MAX_SAFE_INTEGER;
const ENUM = 0x7fffffff;
const U32 = 0xffffffff;

function entryLength(e: RenameEntry, content: Uint8Array | null): number {
  return (
    stringFieldLength(e.path) +
    uintFieldLength(e.kind, ENUM) +
    messageFieldLength(clockLength(e.fromClock)) +
    messageFieldLength(clockLength(e.toClock)) +
    uintFieldLength(e.mode, U32) +
    doubleFieldLength(e.mtimeMs) +
    presentBytesLength(content) +
    stringFieldLength(e.link)
  );
}

export function encodeOperationFast(op: Operation, encodeContent: ContentEncoder): Uint8Array {
  const content = op.content ? encodeContent(op.content) : null;
  const contents = op.entries.map((e) => (e.content ? encodeContent(e.content) : null));
  const lengths = op.entries.map((e, i) => entryLength(e, contents[i]!));
  let n =
    uintFieldLength(op.format, U32) +
    stringFieldLength(op.origin) +
    uintFieldLength(op.seq, SAFE) +
    messageFieldLength(clockLength(op.clock)) +
    uintFieldLength(op.hlc, SAFE) +
    stringFieldLength(op.path) +
    uintFieldLength(op.kind, ENUM) +
    uintFieldLength(op.mode, U32) +
    doubleFieldLength(op.mtimeMs) +
    presentBytesLength(content) +
    stringFieldLength(op.link) +
    stringFieldLength(op.to);
  for (const len of lengths) n += messageFieldLength(len);
  const out = Buffer.allocUnsafe(n);
  let at = writeNumber(out, 0, 0x08, op.format);
  at = writeString(out, at, 0x12, op.origin);
  at = writeNumber(out, at, 0x18, op.seq);
  at = writeClock(out, at, 0x22, op.clock);
  at = writeNumber(out, at, 0x28, op.hlc);
  at = writeString(out, at, 0x32, op.path);
  at = writeNumber(out, at, 0x38, op.kind);
  at = writeNumber(out, at, 0x40, op.mode);
  at = writeDouble(out, at, 0x49, op.mtimeMs);
  at = writePresentBytes(out, at, 0x52, content);
  at = writeString(out, at, 0x5a, op.link);
  at = writeString(out, at, 0x62, op.to);
  op.entries.forEach((e, i) => {
    at = writeFieldHead(out, at, 0x6a, lengths[i]!); // 13: entries
    at = writeString(out, at, 0x0a, e.path);
    at = writeNumber(out, at, 0x10, e.kind);
    at = writeClock(out, at, 0x1a, e.fromClock);
    at = writeClock(out, at, 0x22, e.toClock);
    at = writeNumber(out, at, 0x28, e.mode);
    at = writeDouble(out, at, 0x31, e.mtimeMs);
    at = writePresentBytes(out, at, 0x3a, contents[i]!);
    at = writeString(out, at, 0x42, e.link);
  });
  if (at !== n) throw new Error(`operation encoding: wrote ${at} of ${n} bytes`);
  return out;
}

function readEntry(r: Reader): RenameEntry {
  const outer = enter(r);
  let path = '';
  let kind = 0;
  let fromClock: Clock | null = null;
  let toClock: Clock | null = null;
  let mode = 0;
  let mtimeMs = 0;
  let content = -1; // where the last content field's bytes start
  let contentEnd = 0;
  let link = '';
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== LEN) break;
        path = r.stringVerify();
        continue;
      case 2:
        if (wire !== VARINT) break;
        kind = r.int32();
        continue;
      case 3:
        if (wire !== LEN) break;
        fromClock = readClock(r, fromClock ?? newClock());
        continue;
      case 4:
        if (wire !== LEN) break;
        toClock = readClock(r, toClock ?? newClock());
        continue;
      case 5:
        if (wire !== VARINT) break;
        mode = r.uint32();
        continue;
      case 6:
        if (wire !== FIXED64) break;
        mtimeMs = finiteDouble(r);
        continue;
      case 7:
        if (wire !== LEN) break;
        content = bytesStart(r);
        contentEnd = r.pos;
        continue;
      case 8:
        if (wire !== LEN) break;
        link = r.stringVerify();
        continue;
    }
    skip(r, tag);
  }
  leave(r, outer);
  return {
    path,
    kind: kind as RenameEntry['kind'],
    fromClock: pruneClock(fromClock ?? newClock()),
    toClock: pruneClock(toClock ?? newClock()),
    mode,
    mtimeMs,
    content: contentOf(r, content, contentEnd),
    link,
  };
}

export function decodeOperationFast(buf: Uint8Array): Operation {
  const r = readerOf(buf);
  const op: Operation = {
    format: 0,
    origin: '',
    seq: 0,
    clock: newClock(),
    hlc: 0,
    path: '',
    kind: 0 as Kind,
    mode: 0,
    mtimeMs: 0,
    content: null,
    link: '',
    to: '',
    entries: [],
  };
  let content = -1; // where the last content field's bytes start
  let contentEnd = 0;
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== VARINT) break;
        op.format = r.uint32();
        continue;
      case 2:
        if (wire !== LEN) break;
        op.origin = r.stringVerify();
        continue;
      case 3:
        if (wire !== VARINT) break;
        op.seq = uint64(r);
        continue;
      case 4:
        if (wire !== LEN) break;
        readClock(r, op.clock);
        continue;
      case 5:
        if (wire !== VARINT) break;
        op.hlc = uint64(r);
        continue;
      case 6:
        if (wire !== LEN) break;
        op.path = r.stringVerify();
        continue;
      case 7:
        if (wire !== VARINT) break;
        op.kind = r.int32() as Kind;
        continue;
      case 8:
        if (wire !== VARINT) break;
        op.mode = r.uint32();
        continue;
      case 9:
        if (wire !== FIXED64) break;
        op.mtimeMs = finiteDouble(r);
        continue;
      case 10:
        if (wire !== LEN) break;
        content = bytesStart(r);
        contentEnd = r.pos;
        continue;
      case 11:
        if (wire !== LEN) break;
        op.link = r.stringVerify();
        continue;
      case 12:
        if (wire !== LEN) break;
        op.to = r.stringVerify();
        continue;
      case 13:
        if (wire !== LEN) break;
        op.entries.push(readEntry(r));
        continue;
    }
    skip(r, tag);
  }
  pruneClock(op.clock);
  op.content = contentOf(r, content, contentEnd);
  return op;
}
