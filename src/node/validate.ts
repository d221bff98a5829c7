// Every operation from a peer is checked before it touches the log: well-formed origin and
// clocks, a safe path (see paths.ts), a known kind, a block list that adds up and whose
// digest matches, bounded sizes and counts. A bad operation is a protocol violation: the
// caller drops the connection and logs the reason; nothing is stored.
import { createHash } from 'node:crypto';
import { joinPath, pathProblem } from '../fs/paths.ts';
import { type Clock, type Content, Kind, type Operation } from '../proto/types.ts';

export const LIMITS = {
  clockEntries: 4096,
  clockExceptions: 4096,
  /** Largest block (content-defined chunks are far smaller; fixed blocks of other writers too). */
  blockBytes: 16 * 1024 * 1024,
  blocksPerFile: 1 << 20,
  /**
   * Largest run of blocks one request may ask for (node/content.ts asks for up to this,
   * node/block-server.ts refuses more). Block by block, a new 512 MiB file was ~8,000
   * requests, replies and in-line writes of 64 KiB, the receiver's main thread its
   * bottleneck; a run's write is large enough to go to the thread pool.
   */
  runBytes: 1024 * 1024,
  runBlocks: 256,
  renameEntries: 1 << 20,
  linkBytes: 4096,
  inlineBytes: 64 * 1024,
  fileBytes: 2 ** 50,
};

const ORIGIN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}~[a-z2-9]{8}$/;
const HASH_BYTES = 32;

export class InvalidOperationError extends Error {
  readonly code = 'ERR_INVALID_OPERATION';
  constructor(
    readonly origin: string,
    readonly seq: number,
    reason: string,
  ) {
    super(`invalid operation ${origin.slice(0, 60)}:${seq}: ${reason}`);
  }
}

export function isOrigin(s: string): boolean {
  return ORIGIN.test(s);
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function clockProblem(c: Clock): string | null {
  const keys = Object.keys(c.vv);
  if (keys.length > LIMITS.clockEntries) return 'clock too large';
  for (const k of keys) {
    if (!isOrigin(k)) return `bad origin in clock: ${JSON.stringify(k.slice(0, 60))}`;
    if (!isCount(c.vv[k]!)) return 'bad clock counter';
  }
  if (c.except.length > LIMITS.clockExceptions) return 'too many clock exceptions';
  for (const d of c.except) if (!isOrigin(d.origin) || !isCount(d.seq)) return 'bad clock exception';
  return null;
}

export function contentProblem(c: Content | null, inlineMax = LIMITS.inlineBytes): string | null {
  if (!c) return 'missing content';
  if (!isCount(c.size) || c.size > LIMITS.fileBytes) return 'bad size';
  if (c.blocks.length > LIMITS.blocksPerFile) return 'too many blocks';
  let offset = 0;
  const hash = createHash('sha256');
  for (const b of c.blocks) {
    if (b.offset !== offset || !isCount(b.length) || b.length === 0) return 'blocks do not tile the file';
    if (b.length > LIMITS.blockBytes) return `block larger than ${LIMITS.blockBytes} bytes`;
    if (b.hash.length !== HASH_BYTES) return 'bad block hash';
    hash.update(b.hash);
    offset += b.length;
  }
  if (offset !== c.size) return 'block lengths do not add up to the size';
  if (c.digest.length !== HASH_BYTES || !hash.digest().equals(c.digest))
    return 'digest does not match the blocks';
  if (c.inlineData.length !== 0 && (c.inlineData.length !== c.size || c.size > inlineMax))
    return 'bad inline data';
  return null;
}

/** The reason an operation from a peer is unacceptable, or null. */
export function operationProblem(op: Operation): string | null {
  if (op.format !== 1) return `unknown format ${op.format}`;
  if (!isOrigin(op.origin)) return 'bad origin';
  if (!isCount(op.seq) || op.seq < 1) return 'bad sequence number';
  if (!isCount(op.hlc)) return 'bad timestamp';
  if (!Number.isFinite(op.mtimeMs)) return 'bad mtime';
  if (!isCount(op.mode) || op.mode > 0o7777) return 'bad mode';
  const clock = clockProblem(op.clock);
  if (clock) return clock;
  const path = pathProblem(op.path);
  if (path) return `path: ${path}`;
  switch (op.kind) {
    case Kind.Put:
    case Kind.Chmod:
      return contentProblem(op.content);
    case Kind.Delete:
    case Kind.Rmdir:
    case Kind.Mkdir:
      return null;
    case Kind.Symlink:
      return linkProblem(op.link);
    case Kind.Rename:
      return renameProblem(op);
    default:
      return `unknown kind ${op.kind}`;
  }
}

function linkProblem(link: string): string | null {
  if (link === '' || Buffer.byteLength(link) > LIMITS.linkBytes || link.includes('\0'))
    return 'bad link target';
  return null;
}

function renameProblem(op: Operation): string | null {
  const to = pathProblem(op.to);
  if (to) return `rename target: ${to}`;
  if (op.to === op.path || op.to.startsWith(`${op.path}/`)) return 'rename into itself';
  if (op.entries.length === 0 || op.entries.length > LIMITS.renameEntries) return 'bad rename entry count';
  const seen = new Set<string>();
  for (const e of op.entries) {
    if (seen.has(e.path)) return 'duplicate rename entry';
    seen.add(e.path);
    if (e.path !== '') {
      const p = pathProblem(e.path);
      if (p) return `rename entry: ${p}`;
      if (pathProblem(joinPath(op.to, e.path)) || pathProblem(joinPath(op.path, e.path)))
        return 'rename entry too long';
    }
    const c = clockProblem(e.fromClock) ?? clockProblem(e.toClock);
    if (c) return c;
    if (!Number.isFinite(e.mtimeMs) || !isCount(e.mode) || e.mode > 0o7777)
      return 'bad rename entry metadata';
    if (e.kind === Kind.Put) {
      const p = contentProblem(e.content);
      if (p) return `rename entry: ${p}`;
    } else if (e.kind === Kind.Symlink) {
      const p = linkProblem(e.link);
      if (p) return p;
    } else if (e.kind !== Kind.Mkdir) return 'bad rename entry kind';
  }
  if (!seen.has('')) return 'rename without its root';
  return null;
}
