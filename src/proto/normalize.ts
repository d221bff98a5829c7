// protobufjs's plain objects (`toObject`) into our types: every field checked for its type
// and given its default when missing or wrong, so a decoded message is always complete. Used
// for frames and member records, and by the reference decoders the hand codecs are tested
// against (codec.ts).
import { decodeContent } from './content-codec.ts';
import type {
  Clock,
  Content,
  Dot,
  FileEntry,
  Frame,
  MemberSummary,
  Operation,
  RenameEntry,
  Version,
} from './types.ts';

export type Raw = Record<string, unknown>;
const EMPTY = new Uint8Array(0);

export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function bytes(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? v : EMPTY;
}
export function arr(v: unknown): Raw[] {
  return Array.isArray(v) ? (v as Raw[]) : [];
}
function obj(v: unknown): Raw | null {
  return v !== null && typeof v === 'object' ? (v as Raw) : null;
}

function dot(v: unknown): Dot {
  const o = obj(v) ?? {};
  return { origin: str(o.origin), seq: num(o.seq) };
}
export function optDot(v: unknown): Dot | null {
  return obj(v) ? dot(v) : null;
}
export function clock(v: unknown): Clock {
  const o = obj(v) ?? {};
  const vv: Record<string, number> = {};
  const rawVv = obj(o.vv) ?? {};
  for (const key of Object.keys(rawVv)) {
    const n = num(rawVv[key]);
    if (n > 0) vv[key] = n;
  }
  return { vv, except: arr(o.except).map(dot) };
}
/** A Content field, which the spliced types read as bytes (absent: null). */
function content(v: unknown): Content | null {
  return v instanceof Uint8Array ? decodeContent(v) : null;
}
function renameEntry(o: Raw): RenameEntry {
  return {
    path: str(o.path),
    kind: num(o.kind) as RenameEntry['kind'],
    fromClock: clock(o.fromClock),
    toClock: clock(o.toClock),
    mode: num(o.mode),
    mtimeMs: num(o.mtimeMs),
    content: content(o.content),
    link: str(o.link),
  };
}
export function operation(o: Raw): Operation {
  return {
    format: num(o.format),
    origin: str(o.origin),
    seq: num(o.seq),
    clock: clock(o.clock),
    hlc: num(o.hlc),
    path: str(o.path),
    kind: num(o.kind) as Operation['kind'],
    mode: num(o.mode),
    mtimeMs: num(o.mtimeMs),
    content: content(o.content),
    link: str(o.link),
    to: str(o.to),
    entries: arr(o.entries).map(renameEntry),
  };
}
export function version(o: Raw): Version {
  return {
    dot: dot(o.dot),
    clock: clock(o.clock),
    hlc: num(o.hlc),
    kind: num(o.kind) as Version['kind'],
    mode: num(o.mode),
    mtimeMs: num(o.mtimeMs),
    content: content(o.content),
    link: str(o.link),
  };
}
export function fileEntry(o: Raw): FileEntry {
  return {
    type: num(o.type) as FileEntry['type'],
    size: num(o.size),
    mtimeMs: num(o.mtimeMs),
    ino: num(o.ino),
    mode: num(o.mode),
    ctimeMs: num(o.ctimeMs),
    content: content(o.content),
    link: str(o.link),
    headPath: str(o.headPath),
    version: optDot(o.version),
  };
}
export function memberSummary(o: Raw): MemberSummary {
  return {
    nodeId: str(o.nodeId),
    origin: str(o.origin),
    version: num(o.version),
    logClock: clock(o.logClock),
    refused: arr(o.refused).map((r) => ({ dot: dot(r.dot), path: str(r.path) })),
    listen: str(o.listen),
    updatedMs: num(o.updatedMs),
  };
}
export function frame(o: Raw): Frame {
  const h = obj(o.hello);
  if (h)
    return {
      hello: {
        protocol: num(h.protocol),
        nodeId: str(h.nodeId),
        origin: str(h.origin),
        nonce: bytes(h.nonce),
        listen: str(h.listen),
        clusterSize: num(h.clusterSize),
        instance: bytes(h.instance),
      },
    };
  const p = obj(o.proof);
  if (p) return { proof: { mac: bytes(p.mac) } };
  const w = obj(o.welcome);
  if (w) return { welcome: { logClock: clock(w.logClock) } };
  const b = obj(o.ops);
  if (b)
    return {
      ops: {
        ops: (Array.isArray(b.ops) ? b.ops : []).map(bytes),
        caughtUp: b.caughtUp === true,
        patches: arr(b.patches).map((p) => ({
          op: num(p.op),
          base: dot(p.base),
          head: num(p.head),
          tail: num(p.tail),
        })),
      },
    };
  const rq = obj(o.blockRequest);
  if (rq)
    return {
      blockRequest: {
        id: num(rq.id),
        hash: bytes(rq.hash),
        pathHint: str(rq.pathHint),
        offsetHint: num(rq.offsetHint),
        length: num(rq.length),
        runLengths: Array.isArray(rq.runLengths) ? rq.runLengths.map(num) : [],
      },
    };
  const rp = obj(o.blockReply);
  if (rp) return { blockReply: { id: num(rp.id), data: bytes(rp.data), missing: rp.missing === true } };
  const g = obj(o.gossip);
  if (g) return { gossip: { members: arr(g.members).map(memberSummary) } };
  throw new Error('frame has no body');
}
