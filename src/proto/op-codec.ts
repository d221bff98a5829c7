// Operation records (with a RENAME's entries) encoded and decoded by hand: every operation
// is encoded once where it is made and decoded wherever it is read (log reads, every frame
// of ops a peer sends). Bytes exactly protobufjs's, as in head-codec.ts.
import { clockLength, newClock, pruneClock, readClock, writeClock } from './clock-codec.ts';
import { type ContentEncoder, contentOf, TailReader, tailLength, writeTail } from './head-codec.ts';
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
import { blankOperation, type Clock, type Kind, type Operation, type RenameEntry } from './types.ts';
import {
  doubleFieldLength,
  MAX_ENUM,
  MAX_U32,
  MAX_U64,
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

function entryLength(e: RenameEntry, content: Uint8Array | null): number {
  return (
    stringFieldLength(e.path) +
    uintFieldLength(e.kind, MAX_ENUM) +
    messageFieldLength(clockLength(e.fromClock)) +
    messageFieldLength(clockLength(e.toClock)) +
    tailLength(e, content)
  );
}

export function encodeOperationFast(op: Operation, encodeContent: ContentEncoder): Uint8Array {
  const content = op.content ? encodeContent(op.content) : null;
  const contents = op.entries.map((e) => (e.content ? encodeContent(e.content) : null));
  const lengths = op.entries.map((e, i) => entryLength(e, contents[i]!));
  let n =
    uintFieldLength(op.format, MAX_U32) +
    stringFieldLength(op.origin) +
    uintFieldLength(op.seq, MAX_U64) +
    messageFieldLength(clockLength(op.clock)) +
    uintFieldLength(op.hlc, MAX_U64) +
    stringFieldLength(op.path) +
    uintFieldLength(op.kind, MAX_ENUM) +
    uintFieldLength(op.mode, MAX_U32) +
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
    at = writeTail(out, at, e, contents[i]!);
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
  const tail = new TailReader();
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const n = tag >>> 3;
    if (n === 1 && wire === LEN) path = r.stringVerify();
    else if (n === 2 && wire === VARINT) kind = r.int32();
    else if (n === 3 && wire === LEN) fromClock = readClock(r, fromClock ?? newClock());
    else if (n === 4 && wire === LEN) toClock = readClock(r, toClock ?? newClock());
    else if (!tail.read(r, n, wire)) skip(r, tag);
  }
  leave(r, outer);
  return {
    path,
    kind: kind as RenameEntry['kind'],
    fromClock: pruneClock(fromClock ?? newClock()),
    toClock: pruneClock(toClock ?? newClock()),
    mode: tail.mode,
    mtimeMs: tail.mtimeMs,
    content: tail.content(r),
    link: tail.link,
  };
}

export function decodeOperationFast(buf: Uint8Array): Operation {
  const r = readerOf(buf);
  const op = blankOperation();
  let content = -1; // where the last content field's bytes start
  let contentEnd = 0;
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const n = tag >>> 3;
    if (wire === VARINT) {
      if (n === 1) op.format = r.uint32();
      else if (n === 3) op.seq = uint64(r);
      else if (n === 5) op.hlc = uint64(r);
      else if (n === 7) op.kind = r.int32() as Kind;
      else if (n === 8) op.mode = r.uint32();
      else skip(r, tag);
    } else if (wire === LEN) {
      if (n === 2) op.origin = r.stringVerify();
      else if (n === 4) readClock(r, op.clock);
      else if (n === 6) op.path = r.stringVerify();
      else if (n === 10) {
        content = bytesStart(r);
        contentEnd = r.pos;
      } else if (n === 11) op.link = r.stringVerify();
      else if (n === 12) op.to = r.stringVerify();
      else if (n === 13) op.entries.push(readEntry(r));
      else skip(r, tag);
    } else if (wire === FIXED64 && n === 9) op.mtimeMs = finiteDouble(r);
    else skip(r, tag);
  }
  pruneClock(op.clock);
  op.content = contentOf(r, content, contentEnd);
  return op;
}
