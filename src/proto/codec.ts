// The only place where messages of proto/resonate.proto are encoded and decoded.
// Decoding is total over bytes: anything malformed becomes a CodecError, never a crash,
// and every missing field gets its default so callers see complete objects.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { encodeContent } from './content-codec.ts';
import {
  decodeFileEntryFast,
  decodeHeadFast,
  decodeHeadKindsFast,
  encodeFileEntryFast,
  encodeHeadFast,
} from './head-codec.ts';
import {
  arr,
  clock,
  fileEntry,
  memberSummary,
  num,
  operation,
  optDot,
  type Raw,
  frame as toFrame,
  version,
} from './normalize.ts';
import { decodeOperationFast, encodeOperationFast } from './op-codec.ts';
import type { Content, FileEntry, Frame, Head, Kind, MemberSummary, Operation } from './types.ts';
import { Unwritable } from './wire.ts';

// 64-bit fields as plain numbers: sequence numbers, sizes and times stay far below 2^53.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const PROTO_TEXT = readFileSync(new URL('../../proto/resonate.proto', import.meta.url), 'utf8');
const root = protobuf.parse(PROTO_TEXT).root;
// The same schema with every Content field read as bytes: on the wire an embedded message
// and a bytes field are the same thing, so messages that hold a Content are encoded and
// decoded through these types, and the Content itself by hand (content-codec.ts). The field
// is `optional` so that an empty one (a Content with every field at its default) is still
// written and read as present, as an empty message would be. Only the hand encoders'
// fallback and the tests' reference use them now: parsed on first use.
const CONTENT_FIELD = /\bContent content = /g;
let splicedTypes: { Operation: protobuf.Type; Head: protobuf.Type; FileEntry: protobuf.Type } | null = null;
function S(): NonNullable<typeof splicedTypes> {
  if (!splicedTypes) {
    const spliced = protobuf.parse(PROTO_TEXT.replace(CONTENT_FIELD, 'optional bytes content = ')).root;
    splicedTypes = {
      Operation: spliced.lookupType('resonate.Operation'),
      Head: spliced.lookupType('resonate.Head'),
      FileEntry: spliced.lookupType('resonate.FileEntry'),
    };
  }
  return splicedTypes;
}
const T = {
  HeadKinds: root.lookupType('resonate.HeadKinds'),
  Content: root.lookupType('resonate.Content'),
  Frame: root.lookupType('resonate.Frame'),
  MemberSummary: root.lookupType('resonate.MemberSummary'),
};

export class CodecError extends Error {
  readonly code = 'ERR_DECODE';
  constructor(
    readonly messageType: string,
    cause: unknown,
  ) {
    super(`cannot decode ${messageType}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, arrays: true, objects: true };

function decodeWith<T>(type: protobuf.Type, norm: (o: Raw) => T, buf: Uint8Array): T {
  try {
    return norm(type.toObject(type.decode(buf), TO_OBJECT) as Raw);
  } catch (err) {
    throw new CodecError(type.name, err);
  }
}
function encodeWith(type: protobuf.Type, value: object): Uint8Array {
  return type.encode(value).finish();
}

// A file's block list goes into its operation, its head and its index entry, one after
// the other: a long one (a 2 GiB file's is 1.1 MiB) is encoded once for all three. Content
// objects are not changed once made (the hasher fills its own in before handing it out).
const SHARED_CONTENT_BLOCKS = 64;
const encodedContents = new WeakMap<Content, Uint8Array>();
function contentBytes(c: Content): Uint8Array {
  const shared = c.blocks.length >= SHARED_CONTENT_BLOCKS;
  let bytes = shared ? encodedContents.get(c) : undefined;
  if (bytes === undefined) {
    bytes = encodeContent(c, (x) => encodeWith(T.Content, x));
    if (shared) encodedContents.set(c, bytes);
  }
  return bytes;
}
const optContentBytes = (c: Content | null): Uint8Array | null => (c ? contentBytes(c) : null);

/**
 * Heads, file entries and operations are encoded and decoded by hand (head-codec.ts,
 * op-codec.ts): the same bytes and values as protobufjs, without its intermediate objects.
 * A value the hand encoder does not write (Unwritable) goes to protobufjs.
 */
function fastOr<V>(fast: (v: V, c: (x: Content) => Uint8Array) => Uint8Array, slow: (v: V) => Uint8Array) {
  return (v: V): Uint8Array => {
    try {
      return fast(v, contentBytes);
    } catch (err) {
      if (err instanceof Unwritable) return slow(v);
      throw err;
    }
  };
}
function decodeAs<T>(name: string, decode: (buf: Uint8Array) => T) {
  return (buf: Uint8Array): T => {
    try {
      return decode(buf);
    } catch (err) {
      throw new CodecError(name, err);
    }
  };
}

export const encodeOperation = fastOr(encodeOperationFast, (op: Operation) =>
  encodeWith(S().Operation, {
    ...op,
    content: optContentBytes(op.content),
    entries: op.entries.map((e) => ({ ...e, content: optContentBytes(e.content) })),
  }),
);
export const decodeOperation = decodeAs('Operation', decodeOperationFast);
export const encodeHead = fastOr(encodeHeadFast, (h: Head) =>
  encodeWith(S().Head, {
    ...h,
    versions: h.versions.map((v) => ({ ...v, content: optContentBytes(v.content) })),
  }),
);
export const decodeHead = decodeAs('Head', decodeHeadFast);
/** protobufjs's decoding of the same records: the reference the hand decoders are tested against. */
export const referenceDecoders = {
  operation: (buf: Uint8Array): Operation => decodeWith(S().Operation, operation, buf),
  head: (buf: Uint8Array): Head =>
    decodeWith(
      S().Head,
      (o) => ({
        versions: arr(o.versions).map(version),
        accepted: optDot(o.accepted),
        covered: clock(o.covered),
      }),
      buf,
    ),
  fileEntry: (buf: Uint8Array): FileEntry => decodeWith(S().FileEntry, fileEntry, buf),
  headKinds: (buf: Uint8Array): Kind[] =>
    decodeWith(T.HeadKinds, (o) => arr(o.versions).map((v) => num(v.kind) as Kind), buf),
};
/** The kind of each version of a stored Head, decoding nothing else. */
export const decodeHeadKinds = decodeAs('HeadKinds', decodeHeadKindsFast);
export const encodeFileEntry = fastOr(encodeFileEntryFast, (e: FileEntry) =>
  encodeWith(S().FileEntry, { ...e, content: optContentBytes(e.content) }),
);
export const decodeFileEntry = decodeAs('FileEntry', decodeFileEntryFast);
export const encodeMemberSummary = (m: MemberSummary): Uint8Array => encodeWith(T.MemberSummary, m);
export const decodeMemberSummary = (buf: Uint8Array): MemberSummary =>
  decodeWith(T.MemberSummary, memberSummary, buf);
export const encodeFrame = (f: Frame): Uint8Array => encodeWith(T.Frame, f);
export const decodeFrame = (buf: Uint8Array): Frame => decodeWith(T.Frame, toFrame, buf);

/** `t` and every message type its fields hold, transitively. */
function withNested(t: protobuf.Type, out: Set<protobuf.Type>): Set<protobuf.Type> {
  if (out.has(t)) return out;
  out.add(t);
  for (const f of t.fieldsArray) {
    const nested = f.resolve().resolvedType;
    if (nested instanceof protobuf.Type) withNested(nested, out);
  }
  return out;
}

/**
 * Generate the encoder and decoder of every message type protobufjs still encodes or
 * decodes as a matter of course: wire frames and member records (operations, heads and
 * index entries have hand codecs). protobufjs does it on a type's first use, which cost
 * the first change after start-up ~70 ms (a daemon calls this before it says it is ready).
 */
export function warmCodecs(): void {
  const used = new Set<protobuf.Type>();
  for (const t of [T.Frame, T.MemberSummary]) withNested(t, used);
  for (const t of used) t.setup();
}
