// Building operations the way a peer that knows the secret could: well-formed ones (they
// pass src/node/validate.ts and reach the disk) and deliberately broken ones. A valid
// operation needs an origin "<node>~<8 of a-z2-9>", the next sequence number of that
// origin, a clock holding its own dot and, for files, a block list that tiles the file
// with SHA-256 hashes and a digest over those hashes.
import { createHash } from 'node:crypto';
import { encodeOperation } from '../../src/proto/codec.ts';
import { type Clock, type Content, Kind, type Operation, type RenameEntry } from '../../src/proto/types.ts';

export const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** Every name made for an escape attempt contains this, so a search outside the folder finds it. */
export const ESCAPE_TOKEN = 'rzpwn';

export function makeOrigin(node: string, logId: string): string {
  return `${node}~${logId}`;
}

/** Content of `data`, cut into blocks of `blockSize`; inline when small enough (≤ 64 KiB). */
export function contentOf(data: Uint8Array, blockSize = 64 * 1024, inline = true): Content {
  const blocks = [];
  for (let off = 0; off < data.length; off += blockSize) {
    const part = data.subarray(off, Math.min(data.length, off + blockSize));
    blocks.push({ offset: off, length: part.length, hash: sha256(part) });
  }
  const digest = sha256(Buffer.concat(blocks.map((b) => b.hash)));
  return {
    size: data.length,
    digest,
    blocks,
    inlineData: inline && data.length <= 64 * 1024 ? Buffer.from(data) : new Uint8Array(0),
  };
}

/** Content described only by a block list (nobody needs to have the bytes). */
export function contentFromBlocks(blocks: { length: number; hash: Uint8Array }[]): Content {
  let off = 0;
  const out = blocks.map((b) => {
    const x = { offset: off, length: b.length, hash: b.hash };
    off += b.length;
    return x;
  });
  return {
    size: off,
    digest: sha256(Buffer.concat(out.map((b) => b.hash))),
    blocks: out,
    inlineData: new Uint8Array(0),
  };
}

export const emptyClock = (): Clock => ({ vv: {}, except: [] });

export interface OpFields {
  path: string;
  kind: number;
  mode?: number;
  mtimeMs?: number;
  content?: Content | null;
  link?: string;
  to?: string;
  entries?: RenameEntry[];
  clock?: Clock;
  hlc?: number;
}

/**
 * Issues operations with correct sequence numbers per origin. `held` mirrors what the
 * daemon holds (resync it from every Welcome); `issue` takes the next number without
 * assuming the daemon accepted it: call `accepted` once it did.
 */
export class OpFactory {
  private readonly held = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** What the daemon says it holds: the truth for every origin it knows. */
  resync(clock: Clock): void {
    for (const [o, n] of Object.entries(clock.vv)) this.held.set(o, n);
  }

  heldBy(origin: string): number {
    return this.held.get(origin) ?? 0;
  }

  /** The daemon took ops of this origin up to seq. */
  accepted(origin: string, seq: number): void {
    if (seq > this.heldBy(origin)) this.held.set(origin, seq);
  }

  /** An operation with an explicit sequence number (gaps, replays). */
  at(origin: string, seq: number, f: OpFields): Operation {
    const clock = f.clock ?? { vv: { [origin]: seq }, except: [] };
    return {
      format: 1,
      origin,
      seq,
      clock,
      hlc: f.hlc ?? this.now() * 1024,
      path: f.path,
      kind: f.kind as Operation['kind'],
      mode: f.mode ?? (f.kind === Kind.Mkdir ? 0o755 : 0o644),
      mtimeMs: f.mtimeMs ?? this.now(),
      content: f.content ?? null,
      link: f.link ?? '',
      to: f.to ?? '',
      entries: f.entries ?? [],
    };
  }

  /** The next operation of `origin` (held + 1 + offset of earlier ops in the same batch). */
  next(origin: string, f: OpFields, offset = 0): Operation {
    return this.at(origin, this.heldBy(origin) + 1 + offset, f);
  }
}

export function put(path: string, data: Uint8Array, extra: Partial<OpFields> = {}): OpFields {
  return { path, kind: Kind.Put, content: contentOf(data), ...extra };
}

export function renameEntry(e: Partial<RenameEntry> & { kind: RenameEntry['kind'] }): RenameEntry {
  return {
    path: '',
    fromClock: emptyClock(),
    toClock: emptyClock(),
    mode: 0o644,
    mtimeMs: Date.now(),
    content: null,
    link: '',
    ...e,
  };
}

/** A RENAME of a file `from` -> `to` that carries `data` as the moved content. */
export function renameFile(from: string, to: string, data: Uint8Array): OpFields {
  return {
    path: from,
    kind: Kind.Rename,
    to,
    entries: [renameEntry({ kind: Kind.Put, content: contentOf(data) })],
  };
}

export const encodeOp = (op: Operation): Uint8Array => encodeOperation(op);
