// Head and FileEntry records encoded and decoded by hand. A change reads and rewrites the
// head and the index entry of every path it touches (a folder rename of 1,000 files: 2,000
// of each on each side), and protobufjs built three objects per message to read one and a
// writer operation per field to write one. The bytes are exactly protobufjs's (a property
// test compares the two); a value outside the fast path (Unwritable) is handed back to
// codec.ts, which encodes it with protobufjs.
import {
  clockLength,
  dotLength,
  newClock,
  newDot,
  pruneClock,
  readClock,
  readDot,
  writeClock,
  writeDot,
} from './clock-codec.ts';
import { decodeContent } from './content-codec.ts';
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
import type { Clock, Content, Dot, EntryType, FileEntry, Head, Kind, Version } from './types.ts';
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

/** Encodes a Content (content-codec.ts with codec.ts's fallback). */
export type ContentEncoder = (c: Content) => Uint8Array;

function versionLength(v: Version, content: Uint8Array | null): number {
  return (
    messageFieldLength(dotLength(v.dot)) +
    messageFieldLength(clockLength(v.clock)) +
    uintFieldLength(v.hlc, SAFE) +
    uintFieldLength(v.kind, ENUM) +
    uintFieldLength(v.mode, U32) +
    doubleFieldLength(v.mtimeMs) +
    presentBytesLength(content) +
    stringFieldLength(v.link)
  );
}

export function encodeHeadFast(h: Head, encodeContent: ContentEncoder): Uint8Array {
  const contents = h.versions.map((v) => (v.content ? encodeContent(v.content) : null));
  const lengths = h.versions.map((v, i) => versionLength(v, contents[i]!));
  let n = 0;
  for (const len of lengths) n += messageFieldLength(len);
  if (h.accepted) n += messageFieldLength(dotLength(h.accepted));
  n += messageFieldLength(clockLength(h.covered));
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  h.versions.forEach((v, i) => {
    at = writeFieldHead(out, at, 0x0a, lengths[i]!); // 1: versions
    at = writeDot(out, at, 0x0a, v.dot);
    at = writeClock(out, at, 0x12, v.clock);
    at = writeNumber(out, at, 0x18, v.hlc);
    at = writeNumber(out, at, 0x20, v.kind);
    at = writeNumber(out, at, 0x28, v.mode);
    at = writeDouble(out, at, 0x31, v.mtimeMs);
    at = writePresentBytes(out, at, 0x3a, contents[i]!);
    at = writeString(out, at, 0x42, v.link);
  });
  if (h.accepted) at = writeDot(out, at, 0x12, h.accepted); // 2: accepted
  at = writeClock(out, at, 0x1a, h.covered); // 3: covered
  if (at !== n) throw new Error(`head encoding: wrote ${at} of ${n} bytes`);
  return out;
}

export function encodeFileEntryFast(e: FileEntry, encodeContent: ContentEncoder): Uint8Array {
  const content = e.content ? encodeContent(e.content) : null;
  const n =
    uintFieldLength(e.type, ENUM) +
    uintFieldLength(e.size, SAFE) +
    doubleFieldLength(e.mtimeMs) +
    uintFieldLength(e.ino, SAFE) +
    uintFieldLength(e.mode, U32) +
    doubleFieldLength(e.ctimeMs) +
    presentBytesLength(content) +
    stringFieldLength(e.link) +
    stringFieldLength(e.headPath) +
    (e.version ? messageFieldLength(dotLength(e.version)) : 0);
  const out = Buffer.allocUnsafe(n);
  let at = writeNumber(out, 0, 0x08, e.type);
  at = writeNumber(out, at, 0x10, e.size);
  at = writeDouble(out, at, 0x19, e.mtimeMs);
  at = writeNumber(out, at, 0x20, e.ino);
  at = writeNumber(out, at, 0x28, e.mode);
  at = writeDouble(out, at, 0x31, e.ctimeMs);
  at = writePresentBytes(out, at, 0x3a, content);
  at = writeString(out, at, 0x42, e.link);
  at = writeString(out, at, 0x4a, e.headPath);
  if (e.version) at = writeDot(out, at, 0x52, e.version);
  if (at !== n) throw new Error(`file entry encoding: wrote ${at} of ${n} bytes`);
  return out;
}

/** A Content field, decoded in place once the record is read (the last occurrence wins). */
export const contentOf = (r: Reader, start: number, end: number): Content | null =>
  start < 0 ? null : decodeContent(r.buf, start, end);

function readVersion(r: Reader): Version {
  const outer = enter(r);
  let dot: Dot | null = null;
  let clock: Clock | null = null;
  let hlc = 0;
  let kind = 0;
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
        dot = readDot(r, dot ?? newDot());
        continue;
      case 2:
        if (wire !== LEN) break;
        clock = readClock(r, clock ?? newClock());
        continue;
      case 3:
        if (wire !== VARINT) break;
        hlc = uint64(r);
        continue;
      case 4:
        if (wire !== VARINT) break;
        kind = r.int32();
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
    dot: dot ?? newDot(),
    clock: pruneClock(clock ?? newClock()),
    hlc,
    kind: kind as Kind,
    mode,
    mtimeMs,
    content: contentOf(r, content, contentEnd),
    link,
  };
}

export function decodeHeadFast(buf: Uint8Array): Head {
  const r = readerOf(buf);
  const versions: Version[] = [];
  let accepted: Dot | null = null;
  let covered: Clock | null = null;
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const n = tag >>> 3;
    if (n === 1 && wire === LEN) versions.push(readVersion(r));
    else if (n === 2 && wire === LEN) accepted = readDot(r, accepted ?? newDot());
    else if (n === 3 && wire === LEN) covered = readClock(r, covered ?? newClock());
    else skip(r, tag);
  }
  return { versions, accepted, covered: pruneClock(covered ?? newClock()) };
}

export function decodeFileEntryFast(buf: Uint8Array): FileEntry {
  const r = readerOf(buf);
  const e: FileEntry = {
    type: 0 as EntryType,
    size: 0,
    mtimeMs: 0,
    ino: 0,
    mode: 0,
    ctimeMs: 0,
    content: null,
    link: '',
    headPath: '',
    version: null,
  };
  let content = -1; // where the last content field's bytes start
  let contentEnd = 0;
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== VARINT) break;
        e.type = r.int32() as EntryType;
        continue;
      case 2:
        if (wire !== VARINT) break;
        e.size = uint64(r);
        continue;
      case 3:
        if (wire !== FIXED64) break;
        e.mtimeMs = finiteDouble(r);
        continue;
      case 4:
        if (wire !== VARINT) break;
        e.ino = uint64(r);
        continue;
      case 5:
        if (wire !== VARINT) break;
        e.mode = r.uint32();
        continue;
      case 6:
        if (wire !== FIXED64) break;
        e.ctimeMs = finiteDouble(r);
        continue;
      case 7:
        if (wire !== LEN) break;
        content = bytesStart(r);
        contentEnd = r.pos;
        continue;
      case 8:
        if (wire !== LEN) break;
        e.link = r.stringVerify();
        continue;
      case 9:
        if (wire !== LEN) break;
        e.headPath = r.stringVerify();
        continue;
      case 10:
        if (wire !== LEN) break;
        e.version = readDot(r, e.version ?? newDot());
        continue;
    }
    skip(r, tag);
  }
  e.content = contentOf(r, content, contentEnd);
  return e;
}

/** The kind of each version of a Head, everything else skipped unread (HeadKinds). */
export function decodeHeadKindsFast(buf: Uint8Array): Kind[] {
  const r = readerOf(buf);
  const kinds: Kind[] = [];
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag >>> 3 !== 1 || (tag & 7) !== LEN) {
      skip(r, tag);
      continue;
    }
    const outer = enter(r);
    let kind = 0;
    while (r.pos < r.len) {
      const t = r.tag();
      if (t >>> 3 === 4 && (t & 7) === VARINT) kind = r.int32();
      else skip(r, t);
    }
    leave(r, outer);
    kinds.push(kind as Kind);
  }
  return kinds;
}
