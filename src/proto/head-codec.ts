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
import {
  blankFileEntry,
  type Clock,
  type Content,
  type Dot,
  type EntryType,
  type FileEntry,
  type Head,
  type Kind,
  type Version,
} from './types.ts';
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

/** Encodes a Content (content-codec.ts with codec.ts's fallback). */
export type ContentEncoder = (c: Content) => Uint8Array;

/** The fields a Version and a RenameEntry share, numbered alike in both (5 to 8). */
interface Tail {
  mode: number;
  mtimeMs: number;
  link: string;
}

export function tailLength(t: Tail, content: Uint8Array | null): number {
  return (
    uintFieldLength(t.mode, MAX_U32) +
    doubleFieldLength(t.mtimeMs) +
    presentBytesLength(content) +
    stringFieldLength(t.link)
  );
}

export function writeTail(out: Buffer, at: number, t: Tail, content: Uint8Array | null): number {
  at = writeNumber(out, at, 0x28, t.mode); // 5: mode
  at = writeDouble(out, at, 0x31, t.mtimeMs); // 6: mtime_ms
  at = writePresentBytes(out, at, 0x3a, content); // 7: content
  return writeString(out, at, 0x42, t.link); // 8: link
}

/** The shared fields while a Version or RenameEntry is read (the last of each wins). */
export class TailReader implements Tail {
  mode = 0;
  mtimeMs = 0;
  link = '';
  private contentStart = -1;
  private contentEnd = 0;

  /** Read field `n` if it is one of the shared ones (true); false leaves it to the caller. */
  read(r: Reader, n: number, wire: number): boolean {
    if (n === 5 && wire === VARINT) this.mode = r.uint32();
    else if (n === 6 && wire === FIXED64) this.mtimeMs = finiteDouble(r);
    else if (n === 7 && wire === LEN) {
      this.contentStart = bytesStart(r);
      this.contentEnd = r.pos;
    } else if (n === 8 && wire === LEN) this.link = r.stringVerify();
    else return false;
    return true;
  }

  /** The Content field, decoded in place once the message is read. */
  content(r: Reader): Content | null {
    return contentOf(r, this.contentStart, this.contentEnd);
  }
}

function versionLength(v: Version, content: Uint8Array | null): number {
  return (
    messageFieldLength(dotLength(v.dot)) +
    messageFieldLength(clockLength(v.clock)) +
    uintFieldLength(v.hlc, MAX_U64) +
    uintFieldLength(v.kind, MAX_ENUM) +
    tailLength(v, content)
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
    at = writeTail(out, at, v, contents[i]!);
  });
  if (h.accepted) at = writeDot(out, at, 0x12, h.accepted); // 2: accepted
  at = writeClock(out, at, 0x1a, h.covered); // 3: covered
  if (at !== n) throw new Error(`head encoding: wrote ${at} of ${n} bytes`);
  return out;
}

export function encodeFileEntryFast(e: FileEntry, encodeContent: ContentEncoder): Uint8Array {
  const content = e.content ? encodeContent(e.content) : null;
  const n =
    uintFieldLength(e.type, MAX_ENUM) +
    uintFieldLength(e.size, MAX_U64) +
    doubleFieldLength(e.mtimeMs) +
    uintFieldLength(e.ino, MAX_U64) +
    uintFieldLength(e.mode, MAX_U32) +
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
  const tail = new TailReader();
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const n = tag >>> 3;
    if (n === 1 && wire === LEN) dot = readDot(r, dot ?? newDot());
    else if (n === 2 && wire === LEN) clock = readClock(r, clock ?? newClock());
    else if (n === 3 && wire === VARINT) hlc = uint64(r);
    else if (n === 4 && wire === VARINT) kind = r.int32();
    else if (!tail.read(r, n, wire)) skip(r, tag);
  }
  leave(r, outer);
  return {
    dot: dot ?? newDot(),
    clock: pruneClock(clock ?? newClock()),
    hlc,
    kind: kind as Kind,
    mode: tail.mode,
    mtimeMs: tail.mtimeMs,
    content: tail.content(r),
    link: tail.link,
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
  const e = blankFileEntry();
  let content = -1; // where the last content field's bytes start
  let contentEnd = 0;
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const n = tag >>> 3;
    if (wire === VARINT) {
      if (n === 1) e.type = r.int32() as EntryType;
      else if (n === 2) e.size = uint64(r);
      else if (n === 4) e.ino = uint64(r);
      else if (n === 5) e.mode = r.uint32();
      else skip(r, tag);
    } else if (wire === FIXED64) {
      if (n === 3) e.mtimeMs = finiteDouble(r);
      else if (n === 6) e.ctimeMs = finiteDouble(r);
      else skip(r, tag);
    } else if (wire === LEN) {
      if (n === 7) {
        content = bytesStart(r);
        contentEnd = r.pos;
      } else if (n === 8) e.link = r.stringVerify();
      else if (n === 9) e.headPath = r.stringVerify();
      else if (n === 10) e.version = readDot(r, e.version ?? newDot());
      else skip(r, tag);
    } else skip(r, tag);
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
