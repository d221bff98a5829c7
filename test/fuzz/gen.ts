// Hostile inputs, generated from a seeded PRNG: input i of seed S is always built from the
// same random choices, so a failure is reproducible from the printed seed (and index).
// Two families: inputs before or within the handshake (each on a fresh connection, no
// secret needed) and inputs from an authenticated peer (a connection that knows the secret).
import { makePatch } from '../../src/model/block-patch.ts';
import { LIMITS } from '../../src/node/validate.ts';
import { encodeFrame, encodeOperation } from '../../src/proto/codec.ts';
import {
  type Clock,
  type Content,
  type Frame,
  Kind,
  type Operation,
  type RenameEntry,
} from '../../src/proto/types.ts';
import type { Rng } from '../harness/prng.ts';
import {
  contentFromBlocks,
  contentOf,
  ESCAPE_TOKEN,
  emptyClock,
  type OpFactory,
  type OpFields,
  put,
  renameEntry,
  renameFile,
  sha256,
} from './ops.ts';
import { encodableRefusedPaths, escapeTargets, oddPath, pick, poolPath, refusedPaths } from './paths.ts';
import { bytesField, doubleField, endlessVarint, FrameField, tag, varint, varintField, Wire } from './pb.ts';
import { encodeWsFrame, Opcode } from './wsraw.ts';

/** Whether the daemon should drop the link over this input. */
export type Fatal = 'yes' | 'no' | 'maybe';

export type PostInput =
  /** Binary WebSocket messages, each one protobuf Frame (or garbage). */
  | { type: 'messages'; messages: Uint8Array[]; fatal: Fatal; valid?: Operation[] }
  /** Raw bytes at the WebSocket layer (illegal frames). */
  | { type: 'raw'; bytes: Buffer; fatal: Fatal }
  /** Part of a frame, a pause, then the rest (or the connection is dropped mid-frame). */
  | { type: 'stall'; first: Buffer; rest: Buffer | null; ms: number };

export type PreStep =
  | { do: 'hello' }
  | { do: 'read-hello' }
  | { do: 'proof' }
  | { do: 'message'; data: Uint8Array; opcode?: number }
  | { do: 'raw'; data: Buffer };

export interface PreInput {
  /** Bytes sent instead of an HTTP upgrade request (nothing else happens). */
  request?: Buffer;
  path?: string;
  /** The secret our Hello/Proof are made with (null: none; may be a wrong one). */
  secret: string | null;
  nodeId: string;
  protocol?: number;
  steps: PreStep[];
  /**
   * Do not wait in the lane: the daemon is expected to end the connection by itself within
   * this many ms (its handshake timeout, or the HTTP server's header timeout).
   */
  holdMs?: number;
  /** The daemon may accept this one (the steps are a complete, correct handshake). */
  mayLink?: boolean;
}

export interface Generated<T> {
  category: string;
  note: string;
  input: T;
}

export interface PostContext {
  rng: Rng;
  ops: OpFactory;
  /** This lane's origins (valid), the daemon's own origin. */
  origins: string[];
  targetOrigin: string;
  /** Bytes by hex hash: what we can serve right. */
  known: Map<string, Uint8Array>;
  /** Hashes the daemon asked us for (hex). */
  requested: () => string[];
  canary: string;
  /** Unique per input: names made by this input include it. */
  serial: number;
  /** Categories not to generate ("post/gossip-garbage"). */
  skip?: ReadonlySet<string>;
  /** What the daemon last said its log holds. */
  daemonClock: () => Clock | null;
}

export interface PreContext {
  rng: Rng;
  secret: string;
  targetNodeId: string;
  canary: string;
  serial: number;
  /** Categories not to generate ("pre/stall"). */
  skip?: ReadonlySet<string>;
}

// --- helpers -------------------------------------------------------------------------

function weighted<T>(rng: Rng, table: readonly (readonly [number, T])[]): T {
  const total = table.reduce((s, [w]) => s + w, 0);
  let x = rng.float() * total;
  for (const [w, v] of table) {
    x -= w;
    if (x < 0) return v;
  }
  return table[table.length - 1]![1];
}

const bytes = (rng: Rng, max: number) => rng.bytes(rng.int(0, max));

/** A valid-looking origin "<node>~<8 of a-z2-9>". */
function randomOrigin(rng: Rng): string {
  const alpha = 'abcdefghijkmnpqrstuvwxyz23456789';
  let log = '';
  for (let i = 0; i < 8; i++) log += alpha[rng.int(0, alpha.length - 1)];
  const node = pick(rng, ['n', 'peer1', 'constructor', 'toString', 'x.y', 'A_-.', 'z'.repeat(32)]);
  return `${node}~${log}`;
}

/** Strings that are not origins. */
const BAD_ORIGINS = [
  '',
  '~',
  'x',
  'x~',
  'x~short',
  'x~UPPERCAS',
  'x~abcdefgh~',
  '-x~abcdefgh',
  'x~abcdefg1',
  '__proto__',
];

function hugeNumber(rng: Rng): number {
  return pick(rng, [2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64 - 1, 1e300, -1, Number.MAX_VALUE]);
}

function forgedClock(rng: Rng, ctx: PostContext, own: { origin: string; seq: number }): Clock {
  const vv: Record<string, number> = { [own.origin]: own.seq };
  const n = rng.int(0, 6);
  for (let i = 0; i < n; i++) {
    const o = rng.float() < 0.3 ? ctx.targetOrigin : randomOrigin(rng);
    vv[o] = rng.float() < 0.3 ? 2 ** 53 - 1 : rng.int(1, 1_000_000);
  }
  const except = [];
  const m = rng.float() < 0.2 ? rng.int(1, 50) : 0;
  for (let i = 0; i < m; i++) except.push({ origin: pick(rng, Object.keys(vv)), seq: rng.int(1, 1_000_000) });
  // Sometimes the op's own dot is missing or excepted.
  if (rng.float() < 0.1) delete vv[own.origin];
  return { vv, except };
}

function randomData(rng: Rng): Buffer {
  return rng.bytes(rng.float() < 0.8 ? rng.int(0, 2048) : rng.int(2048, 64 * 1024));
}

/** Registers content we can serve right later. */
function remember(ctx: PostContext, data: Uint8Array, blockSize: number): void {
  for (let off = 0; off < data.length; off += blockSize) {
    const part = data.subarray(off, Math.min(data.length, off + blockSize));
    ctx.known.set(sha256(part).toString('hex'), Buffer.from(part));
  }
  if (ctx.known.size > 20_000) ctx.known.clear();
}

function batch(ops: Uint8Array[], caughtUp = false): Uint8Array {
  return encodeFrame({ ops: { ops, caughtUp } });
}

// --- valid operations ------------------------------------------------------------------

/** One valid operation's fields: the daemon must accept it (and keep it inside the folder). */
function validFields(rng: Rng, ctx: PostContext, path: string): OpFields {
  const kind = weighted(rng, [
    [30, Kind.Put],
    [10, Kind.Mkdir],
    [8, Kind.Delete],
    [4, Kind.Rmdir],
    [10, Kind.Symlink],
    [5, Kind.Chmod],
    [8, Kind.Rename],
  ] as const);
  const mode = rng.float() < 0.2 ? rng.int(0, 0o7777) : undefined;
  const withMode = (f: OpFields): OpFields => (mode === undefined ? f : { ...f, mode });
  switch (kind) {
    case Kind.Put:
    case Kind.Chmod: {
      const data = randomData(rng);
      const inline = rng.float() < 0.85;
      const blockSize = pick(rng, [64, 1024, 4096, 64 * 1024]);
      remember(ctx, data, blockSize);
      return withMode({ path, kind, content: contentOf(data, blockSize, inline) });
    }
    case Kind.Symlink:
      return {
        path,
        kind,
        link: pick(rng, [...escapeTargets(ctx.canary), 'x.txt', 'a/b', `../${ESCAPE_TOKEN}`, '\u00e9', 'l0']),
      };
    case Kind.Rename: {
      let to = poolPath(rng);
      if (to === path || to.startsWith(`${path}/`)) to = `moved-${ctx.serial}`;
      return renameFile(path, to, randomData(rng));
    }
    default:
      return withMode({ path, kind });
  }
}

/** A batch of valid operations from one of our origins, some with forged clocks. */
function validBatch(rng: Rng, ctx: PostContext, opts: { forge?: boolean; odd?: boolean } = {}) {
  const origin = pick(rng, ctx.origins);
  const n = rng.int(1, 8);
  const ops: Operation[] = [];
  for (let i = 0; i < n; i++) {
    const path = opts.odd ? oddPath(rng) : poolPath(rng);
    const f = validFields(rng, ctx, path);
    const seq = ctx.ops.heldBy(origin) + 1 + i;
    if (opts.forge) {
      f.clock = forgedClock(rng, ctx, { origin, seq });
      if (rng.float() < 0.3) f.hlc = rng.float() < 0.5 ? 2 ** 53 - 1 : rng.int(0, 2 ** 40);
      if (rng.float() < 0.2) f.mtimeMs = pick(rng, [-1e15, 0, 1e15, -0, 8.64e15 + 1]);
    }
    ops.push(ctx.ops.at(origin, seq, f));
  }
  return ops;
}

/** Symlinks that point out, then writes through them: the core of path confinement. */
function escapeBatch(rng: Rng, ctx: PostContext): Operation[] {
  const origin = pick(rng, ctx.origins);
  const link = `l${rng.int(0, 3)}`;
  const name = `${ESCAPE_TOKEN}-${ctx.serial}`;
  const data = Buffer.from(`escaped ${ctx.serial}\n`);
  const fields: OpFields[] = [
    { path: link, kind: Kind.Symlink, link: pick(rng, escapeTargets(ctx.canary)) },
    put(`${link}/${name}`, data),
    { path: `${link}/${name}-dir`, kind: Kind.Mkdir },
    renameFile(`src-${ctx.serial}`, `${link}/${name}-moved`, data),
    { path: `${link}/${name}-link`, kind: Kind.Symlink, link: '/etc/passwd' },
    { path: link, kind: Kind.Chmod, content: contentOf(data), mode: 0o777 },
    { path: `${link}/${name}`, kind: Kind.Delete },
    { path: `${link}/sentinel`, kind: Kind.Delete },
    { path: `${link}/sentinel`, kind: Kind.Put, content: contentOf(data) },
    // A folder that becomes a link while a file below it is being written.
    { path: `dir-${ctx.serial % 4}`, kind: Kind.Mkdir },
    {
      path: `dir-${ctx.serial % 4}/${name}`,
      kind: Kind.Put,
      content: contentOf(rng.bytes(3000), 1024, false),
    },
    { path: `dir-${ctx.serial % 4}`, kind: Kind.Symlink, link: ctx.canary },
  ];
  const chosen = fields.filter((_, i) => i === 0 || rng.float() < 0.6);
  const base = ctx.ops.heldBy(origin);
  return chosen.map((f, i) => ctx.ops.at(origin, base + 1 + i, f));
}

// --- invalid operations ------------------------------------------------------------------

/**
 * An operation validate.ts must refuse. `fatal: 'maybe'` where the codec already sanitises
 * the value (a non-finite double decodes as 0), so the daemon sees a valid operation.
 */
function invalidOp(
  rng: Rng,
  ctx: PostContext,
): { op: Operation; category: string; note: string; fatal?: Fatal } {
  const origin = pick(rng, ctx.origins);
  const seq = ctx.ops.heldBy(origin) + 1;
  const base = ctx.ops.at(origin, seq, validFields(rng, ctx, poolPath(rng)));
  const what = weighted(rng, [
    [14, 'path'],
    [5, 'rename-target'],
    [4, 'rename-entry'],
    [6, 'kind'],
    [3, 'format'],
    [4, 'origin'],
    [4, 'seq'],
    [3, 'hlc'],
    [3, 'mtime'],
    [3, 'mode'],
    [6, 'clock'],
    [10, 'content'],
    [3, 'link'],
  ] as const);
  const op = { ...base };
  switch (what) {
    case 'path':
      op.path = pick(rng, refusedPaths(ctx.canary));
      return { op, category: 'post/bad-path', note: JSON.stringify(op.path.slice(0, 80)) };
    case 'rename-target':
      Object.assign(op, renameFile(poolPath(rng), pick(rng, refusedPaths(ctx.canary)), randomData(rng)));
      op.kind = Kind.Rename;
      return { op, category: 'post/bad-rename-target', note: JSON.stringify(op.to.slice(0, 80)) };
    case 'rename-entry': {
      const f = renameFile(`r${rng.int(0, 9)}`, `s${rng.int(0, 9)}`, randomData(rng));
      const bad = pick(rng, [
        () => renameEntry({ path: pick(rng, refusedPaths(ctx.canary)), kind: Kind.Put }),
        () => renameEntry({ path: 'x', kind: Kind.Delete }),
        () => renameEntry({ path: 'x', kind: 99 as RenameEntry['kind'] }),
        () => renameEntry({ path: '', kind: Kind.Symlink, link: '' }),
        () => renameEntry({ path: 'x', kind: Kind.Put, content: null }),
      ])();
      f.entries = pick(rng, [
        [], // no entries
        [renameEntry({ kind: Kind.Mkdir, path: 'x' })], // no root
        [renameEntry({ kind: Kind.Mkdir }), renameEntry({ kind: Kind.Mkdir })], // duplicate
        [renameEntry({ kind: Kind.Mkdir }), bad],
      ]);
      Object.assign(op, f);
      op.kind = Kind.Rename;
      return { op, category: 'post/bad-rename-entry', note: `${op.entries.length} entries` };
    }
    case 'kind':
      op.kind = pick(rng, [0, 8, 9, 100, 2 ** 31 - 1, 2 ** 32 - 1]) as Operation['kind'];
      return { op, category: 'post/unknown-kind', note: `kind ${op.kind}` };
    case 'format':
      op.format = pick(rng, [0, 2, 255, 2 ** 32 - 1]);
      return { op, category: 'post/bad-format', note: `format ${op.format}` };
    case 'origin':
      op.origin = pick(rng, BAD_ORIGINS);
      return { op, category: 'post/bad-origin', note: JSON.stringify(op.origin) };
    case 'seq':
      op.seq = pick(rng, [0, 2 ** 53, 2 ** 64 - 1, -1]);
      return { op, category: 'post/bad-seq', note: `seq ${op.seq}` };
    case 'hlc':
      // (2^64-1 is no test: as a double it is 2^64, which protobufjs writes as 0.)
      op.hlc = pick(rng, [2 ** 53, 2 ** 63, -1]);
      return { op, category: 'post/bad-hlc', note: `hlc ${op.hlc}` };
    case 'mtime':
      op.mtimeMs = pick(rng, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      return { op, category: 'post/bad-mtime', note: `mtime ${op.mtimeMs}`, fatal: 'maybe' };
    case 'mode':
      op.mode = pick(rng, [0o10000, 2 ** 32 - 1]);
      return { op, category: 'post/bad-mode', note: `mode ${op.mode}` };
    case 'clock': {
      const variants: (() => Clock)[] = [
        // ("__proto__" is no test: protobufjs drops that map key, leaving a valid clock.)
        () => ({
          vv: {
            [pick(
              rng,
              BAD_ORIGINS.filter((o) => o !== '__proto__'),
            ) || 'bad']: 1,
          },
          except: [],
        }),
        // Counters that are not safe integers (2^64-1 is no test: it is written as 0).
        () => ({ vv: { [origin]: pick(rng, [2 ** 53, 2 ** 63, -1]) }, except: [] }),
        () => ({ vv: { [origin]: seq }, except: [{ origin: 'nope', seq: 1 }] }),
        () => ({ vv: { [origin]: seq }, except: [{ origin, seq: pick(rng, [2 ** 53, -1]) }] }),
      ];
      const heavy: (() => Clock)[] = [
        () => {
          const vv: Record<string, number> = {};
          for (let i = 0; i < 4097; i++) vv[`o${i}~abcdefgh`] = 1;
          return { vv, except: [] };
        },
        () => ({
          vv: { [origin]: seq },
          except: Array.from({ length: 65537 }, (_, i) => ({ origin, seq: i + 1 })),
        }),
      ];
      const c = pick(rng, rng.float() < 0.1 ? heavy : variants)();
      op.clock = c;
      return {
        op,
        category: 'post/bad-clock',
        note: `${Object.keys(c.vv).length} entries, ${c.except.length} exceptions`,
      };
    }
    case 'content': {
      const data = rng.bytes(rng.int(1, 4000));
      const good = contentOf(data, 512, false);
      // [name, content, fatal]: inline bytes of the right length but wrong content pass
      // validation (only their length is checked) and are refused when written.
      const variants: [string, () => Content | null, Fatal?][] = [
        ['missing', () => null],
        ['size', () => ({ ...good, size: good.size + rng.int(1, 10) })],
        ['huge size', () => ({ ...good, size: hugeNumber(rng) })],
        ['digest', () => ({ ...good, digest: rng.bytes(32) })],
        ['short digest', () => ({ ...good, digest: rng.bytes(rng.int(0, 31)) })],
        ['hash length', () => ({ ...good, blocks: good.blocks.map((b) => ({ ...b, hash: rng.bytes(31) })) })],
        [
          'gap',
          () => {
            const last = good.blocks.length - 1;
            const blocks = good.blocks.map((b, i) => ({
              ...b,
              offset: i === last ? b.offset + 1 : b.offset,
            }));
            return { ...good, blocks };
          },
        ],
        [
          'zero-length block',
          () => ({
            ...good,
            blocks: [{ offset: 0, length: 0, hash: sha256(new Uint8Array()) }, ...good.blocks],
          }),
        ],
        ['no blocks', () => ({ ...good, blocks: [] })],
        ['inline length', () => ({ ...good, inlineData: rng.bytes(good.size + 1) })],
        ['inline wrong bytes', () => ({ ...good, inlineData: rng.bytes(good.size) }), 'maybe'],
        [
          'inline too big',
          () => {
            const big = rng.bytes(64 * 1024 + 1);
            return { ...contentOf(big, 65 * 1024, false), inlineData: big };
          },
        ],
        ['too many blocks', tooManyBlocks],
      ];
      const [name, make, fatal] =
        rng.float() < 0.005 ? variants[variants.length - 1]! : pick(rng, variants.slice(0, -1));
      op.kind = pick(rng, [Kind.Put, Kind.Chmod]);
      op.content = make();
      return { op, category: 'post/bad-content', note: name, ...(fatal ? { fatal } : {}) };
    }
    case 'link':
      op.kind = Kind.Symlink;
      op.link = pick(rng, ['', 'a\0b', 'x'.repeat(4097)]);
      return { op, category: 'post/bad-link', note: `link of ${op.link.length}` };
  }
}

let manyBlocks: Content | null = null;
let manyBlocksBytes: Uint8Array | null = null;
/** One more block than allowed (about 44 MB encoded): built once, encoded once. */
function tooManyBlocks(): Content {
  const hash = sha256(Buffer.alloc(1));
  manyBlocks ??= contentFromBlocks(Array.from({ length: (1 << 20) + 1 }, () => ({ length: 1, hash })));
  return manyBlocks;
}

/** encodeOperation, except that the one huge operation is encoded only once (it is refused anyway). */
function enc(op: Operation): Uint8Array {
  if (manyBlocks && op.content === manyBlocks) {
    manyBlocksBytes ??= encodeOperation(op);
    return manyBlocksBytes;
  }
  return encodeOperation(op);
}

// --- raw protobuf ------------------------------------------------------------------------

/** Frames whose fields have the wrong wire types, lying lengths or no end. */
function malformedFrame(rng: Rng, valid: Uint8Array): { data: Buffer; note: string } {
  const f = pick(rng, Object.values(FrameField));
  const variants: [string, () => Buffer][] = [
    ['body as varint', () => varintField(f, rng.u32())],
    ['body as fixed64', () => Buffer.concat([tag(f, Wire.Fixed64), rng.bytes(8)])],
    ['body as fixed32', () => Buffer.concat([tag(f, Wire.Fixed32), rng.bytes(4)])],
    ['group', () => Buffer.concat([tag(f, Wire.StartGroup), rng.bytes(rng.int(0, 20))])],
    ['bad wire type', () => Buffer.concat([tag(f, rng.int(6, 7)), rng.bytes(rng.int(0, 20))])],
    ['length lies (long)', () => bytesField(f, rng.bytes(rng.int(0, 50)), rng.int(51, 2 ** 31))],
    ['length lies (huge)', () => Buffer.concat([tag(f, Wire.Bytes), varint(2n ** 63n)])],
    ['endless varint', () => Buffer.concat([tag(f, Wire.Varint), endlessVarint])],
    ['field 0', () => Buffer.concat([Buffer.from([0x02, 0x01, 0x00])])],
    ['unknown field only', () => bytesField(rng.int(8, 1000), rng.bytes(rng.int(0, 200)))],
    ['field number 2^29-1', () => bytesField(2 ** 29 - 1, rng.bytes(5))],
    [
      'nested wrong types',
      () => {
        // An OpBatch whose op is an Operation with wrongly typed fields.
        const opBytes = Buffer.concat([
          varintField(6, rng.u32()), // path as varint
          bytesField(7, rng.bytes(4)), // kind as bytes
          varintField(10, 5), // content as varint
          doubleField(3, 1.5), // seq as fixed64
          bytesField(4, Buffer.from([0x0a, 0x05, 0x0a, 0x01, 0x78, 0x10])), // truncated map entry
        ]);
        return bytesField(FrameField.ops, bytesField(1, opBytes));
      },
    ],
    [
      'ops entry as varint',
      () => bytesField(FrameField.ops, Buffer.concat([varintField(1, 7), varintField(2, 1)])),
    ],
    ['two bodies', () => Buffer.concat([Buffer.from(valid), bytesField(FrameField.gossip, Buffer.alloc(0))])],
    ['valid + trailing garbage', () => Buffer.concat([Buffer.from(valid), rng.bytes(rng.int(1, 10))])],
  ];
  const [note, make] = pick(rng, variants);
  return { data: make(), note };
}

// --- authenticated inputs -------------------------------------------------------------------

/** Authenticated input kinds and their weights. */
export const POST_KINDS = [
  [6, 'random-bytes'],
  [6, 'truncated'],
  [7, 'malformed-pb'],
  [2, 'oversized-declared'],
  [2, 'big-message'],
  [2, 'handshake-frame'],
  [3, 'ws-violation'],
  [2, 'ping'],
  [16, 'invalid-op'],
  [3, 'invalid-op-late'],
  [14, 'valid-ops'],
  [6, 'forged-clocks'],
  [4, 'odd-names'],
  [6, 'escape'],
  [4, 'seq-gap'],
  [2, 'seq-replay'],
  [2, 'own-origin'],
  [3, 'unfetchable'],
  [1, 'huge-counts'],
  [1, 'heavy-clock'],
  [5, 'block-reply-garbage'],
  [4, 'block-requests'],
  [1, 'block-request-flood'],
  [4, 'welcome-garbage'],
  [6, 'gossip-garbage'],
  [1, 'stall'],
  [1, 'huge-block'],
  [4, 'patches'],
] as const;

type PostKind = (typeof POST_KINDS)[number][1];

export function genPost(ctx: PostContext): Generated<PostInput> {
  const { rng } = ctx;
  const kind: PostKind = weighted(
    rng,
    POST_KINDS.filter(([, k]) => !ctx.skip?.has(`post/${k}`)),
  );
  const msgs = (
    category: string,
    note: string,
    messages: Uint8Array[],
    fatal: Fatal,
    valid?: Operation[],
  ) => ({
    category: `post/${category}`,
    note,
    input: { type: 'messages' as const, messages, fatal, ...(valid ? { valid } : {}) },
  });
  switch (kind) {
    case 'random-bytes': {
      const b = bytes(rng, rng.float() < 0.9 ? 64 : 4096);
      return msgs(kind, `${b.length} bytes`, [b], 'maybe');
    }
    case 'truncated': {
      const ops = validBatch(rng, ctx).map(enc);
      const whole = Buffer.from(
        pick(rng, [
          () => batch(ops),
          () => encodeFrame(gossipFrame(rng, ctx)),
          () => encodeFrame({ blockReply: { id: rng.u32(), data: rng.bytes(100), missing: false } }),
          () => encodeFrame({ welcome: { logClock: { vv: { [ctx.targetOrigin]: 5 }, except: [] } } }),
        ])(),
      );
      const cut = rng.int(1, Math.max(1, whole.length - 1));
      return msgs(kind, `${cut}/${whole.length} bytes`, [whole.subarray(0, cut)], 'maybe');
    }
    case 'malformed-pb': {
      const { data, note } = malformedFrame(rng, batch(validBatch(rng, ctx).map(enc)));
      return msgs(kind, note, [data], 'maybe');
    }
    case 'oversized-declared': {
      // A header announcing more than the 64 MiB limit (ws refuses before reading it).
      const len = pick(rng, [64 * 1024 * 1024 + 1, 2 ** 32, 2 ** 53 - 1]);
      const raw = encodeWsFrame({ payload: rng.bytes(rng.int(0, 100)), declaredLength: len });
      return {
        category: `post/${kind}`,
        note: `declares ${len}`,
        input: { type: 'raw', bytes: raw, fatal: 'yes' },
      };
    }
    case 'big-message': {
      const variant = rng.int(0, 2);
      if (variant === 0) {
        // A valid frame with a big unknown field: skipped by the decoder.
        const body = Buffer.from(encodeFrame(gossipFrame(rng, ctx)));
        const pad = bytesField(rng.int(100, 200), Buffer.alloc(rng.int(1, 4) * 1024 * 1024));
        return msgs(kind, 'unknown 1-4 MiB field', [Buffer.concat([pad, body])], 'no');
      }
      if (variant === 1) {
        const op = ctx.ops.next(pick(rng, ctx.origins), {
          path: 'p'.repeat(2 * 1024 * 1024),
          kind: Kind.Mkdir,
        });
        return msgs(kind, '2 MiB path', [batch([enc(op)])], 'yes');
      }
      return msgs(
        kind,
        '1 MiB block reply',
        [encodeFrame({ blockReply: { id: rng.u32(), data: rng.bytes(1 << 20), missing: false } })],
        'no',
      );
    }
    case 'handshake-frame': {
      const f: Frame =
        rng.float() < 0.5
          ? { proof: { mac: rng.bytes(32) } }
          : {
              hello: {
                protocol: 1,
                nodeId: 'again',
                origin: 'again~abcdefgh',
                nonce: rng.bytes(32),
                listen: '',
                clusterSize: 2,
                instance: rng.bytes(16),
              },
            };
      return msgs(kind, Object.keys(f)[0]!, [encodeFrame(f)], 'yes');
    }
    case 'ws-violation': {
      const payload = Buffer.from(encodeFrame({ welcome: { logClock: emptyClock() } }));
      const variants: [string, () => Buffer][] = [
        ['text frame', () => encodeWsFrame({ opcode: Opcode.Text, payload: Buffer.from('hello') })],
        ['unmasked', () => encodeWsFrame({ payload, mask: false })],
        ['rsv bits', () => encodeWsFrame({ payload, rsv: rng.int(1, 7) })],
        ['reserved opcode', () => encodeWsFrame({ opcode: pick(rng, [3, 4, 5, 6, 7, 0xb, 0xf]), payload })],
        ['continuation first', () => encodeWsFrame({ opcode: Opcode.Continuation, payload })],
        [
          'fragmented ping',
          () => encodeWsFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(3), fin: false }),
        ],
        ['ping too long', () => encodeWsFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(126) })],
        [
          'close with bad code',
          () => encodeWsFrame({ opcode: Opcode.Close, payload: Buffer.from([0x03, 0xe7]) }),
        ],
        [
          'text in fragments',
          () =>
            Buffer.concat([
              encodeWsFrame({ opcode: Opcode.Text, payload: Buffer.from([0xc3]), fin: false }),
              encodeWsFrame({ opcode: Opcode.Continuation, payload: Buffer.from([0x28]) }),
            ]),
        ],
      ];
      const [note, make] = pick(rng, variants);
      return { category: `post/${kind}`, note, input: { type: 'raw', bytes: make(), fatal: 'yes' } };
    }
    case 'ping': {
      // Legal control frames between fragments of a message.
      const payload = Buffer.from(encodeFrame({ welcome: { logClock: { vv: {}, except: [] } } }));
      const half = Math.floor(payload.length / 2);
      const raw = Buffer.concat([
        encodeWsFrame({ payload: payload.subarray(0, half), fin: false }),
        encodeWsFrame({ opcode: Opcode.Ping, payload: rng.bytes(rng.int(0, 125)) }),
        encodeWsFrame({ opcode: Opcode.Pong, payload: rng.bytes(rng.int(0, 125)) }),
        encodeWsFrame({ opcode: Opcode.Continuation, payload: payload.subarray(half) }),
      ]);
      return {
        category: `post/${kind}`,
        note: 'ping inside a fragmented message',
        input: { type: 'raw', bytes: raw, fatal: 'no' },
      };
    }
    case 'patches': {
      // Two writes of a path in one batch, the second as a block-list patch against the
      // first: valid, or with one field of the patch spoiled.
      const origin = pick(rng, ctx.origins);
      const path = poolPath(rng);
      const data = rng.bytes(64 * rng.int(40, 80));
      const edited = Buffer.from(data);
      edited.fill(rng.int(0, 255), 1024, 1024 + rng.int(1, 300));
      remember(ctx, data, 64);
      remember(ctx, edited, 64);
      const first = ctx.ops.next(origin, { path, kind: Kind.Put, content: contentOf(data, 64, false) });
      const second = ctx.ops.next(origin, { path, kind: Kind.Put, content: contentOf(edited, 64, false) }, 1);
      const a = first.content!;
      const b = second.content!;
      const p = makePatch(a.blocks, a.size, b.blocks, b.size)!;
      const ops = [enc(first), encodeOperation({ ...second, content: { ...b, blocks: p.middle } })];
      const good = { op: 1, base: { origin, seq: first.seq }, head: p.head, tail: p.tail };
      const frame = (patch: typeof good) => encodeFrame({ ops: { ops, caughtUp: false, patches: [patch] } });
      if (rng.float() < 0.5)
        return msgs(kind, `valid, ${p.head}+${p.tail}`, [frame(good)], 'no', [first, second]);
      const [note, bad] = pick(rng, [
        ['op out of range', { ...good, op: rng.int(2, 1000) }],
        ['head off by one', { ...good, head: good.head + pick(rng, [-1, 1]) }],
        ['tail too long', { ...good, tail: rng.int(a.blocks.length, 2 ** 32 - 1) }],
        ['base not held', { ...good, base: { origin, seq: first.seq + rng.int(2, 1000) } }],
        ['base origin malformed', { ...good, base: { origin: 'o!p~../x', seq: 1 } }],
      ] as const);
      return msgs(kind, note, [frame(bad)], 'maybe');
    }
    case 'invalid-op': {
      const { op, category, note, fatal } = invalidOp(rng, ctx);
      return { ...msgs('', note, [batch([enc(op)])], fatal ?? 'yes'), category };
    }
    case 'invalid-op-late': {
      // Valid operations first, the bad one last: none of the batch may be stored.
      const good = validBatch(rng, ctx);
      const { op, category, note, fatal } = invalidOp(rng, ctx);
      // It follows the valid ones (unless its sequence number is what is wrong).
      const bad = category === 'post/bad-seq' ? op : { ...op, seq: op.seq + good.length };
      return {
        ...msgs('', `after ${good.length} valid: ${note}`, [batch([...good, bad].map(enc))], fatal ?? 'yes'),
        category: `${category}-late`,
      };
    }
    case 'valid-ops': {
      const ops = validBatch(rng, ctx);
      return msgs(kind, `${ops.length} ops`, [batch(ops.map(enc), rng.float() < 0.5)], 'no', ops);
    }
    case 'forged-clocks': {
      const ops = validBatch(rng, ctx, { forge: true });
      return msgs(kind, `${ops.length} ops`, [batch(ops.map(enc))], 'no', ops);
    }
    case 'odd-names': {
      const ops = validBatch(rng, ctx, { odd: true });
      return msgs(
        kind,
        ops.map((o) => JSON.stringify(o.path.slice(0, 40))).join(' '),
        [batch(ops.map(enc))],
        'no',
        ops,
      );
    }
    case 'escape': {
      const ops = escapeBatch(rng, ctx);
      return msgs(
        kind,
        `${ops[0]!.path} -> ${ops[0]!.link}, ${ops.length} ops`,
        [batch(ops.map(enc))],
        'no',
        ops,
      );
    }
    case 'seq-gap': {
      const origin = pick(rng, ctx.origins);
      const gap = rng.int(2, 1000);
      const op = ctx.ops.at(origin, ctx.ops.heldBy(origin) + gap, validFields(rng, ctx, poolPath(rng)));
      return msgs(kind, `+${gap}`, [batch([enc(op)])], 'no');
    }
    case 'seq-replay': {
      const origin = pick(rng, ctx.origins);
      const held = ctx.ops.heldBy(origin);
      const op = ctx.ops.at(origin, Math.max(1, held - rng.int(0, 5)), validFields(rng, ctx, poolPath(rng)));
      return msgs(kind, `seq ${op.seq} of ${held}`, [batch([enc(op)])], 'no');
    }
    case 'own-origin': {
      // Operations in the daemon's own name (a peer with the secret can forge them).
      const seq = ctx.ops.heldBy(ctx.targetOrigin) + rng.int(0, 2);
      const op = ctx.ops.at(ctx.targetOrigin, Math.max(1, seq), validFields(rng, ctx, poolPath(rng)));
      // Whether the daemon takes them or drops the link depends on its version: "maybe".
      return msgs(kind, `seq ${op.seq}`, [batch([enc(op)])], 'maybe');
    }
    case 'unfetchable': {
      // Valid content nobody has: the daemon asks, gets wrong bytes or nothing, and waits.
      const origin = pick(rng, ctx.origins);
      const blocks = Array.from({ length: rng.int(1, 20) }, () => ({
        length: rng.int(1, 1 << 20),
        hash: rng.bytes(32),
      }));
      const op = ctx.ops.next(origin, {
        path: poolPath(rng),
        kind: Kind.Put,
        content: contentFromBlocks(blocks),
      });
      return msgs(kind, `${blocks.length} blocks`, [batch([enc(op)])], 'no', [op]);
    }
    case 'huge-block': {
      // One block of the largest size allowed (nobody has it: the daemon must give up on it
      // and go on), or larger than allowed (the link drops), up to a uint32.
      const origin = pick(rng, ctx.origins);
      const max = LIMITS.blockBytes;
      const len = pick(rng, [max, max, max + 1, 64 * 1024 * 1024 + 1, 2 ** 31, 2 ** 32 - 1]);
      const op = ctx.ops.next(origin, {
        path: `huge-${ctx.serial}`,
        kind: Kind.Put,
        content: contentFromBlocks([{ length: len, hash: rng.bytes(32) }]),
      });
      const fatal = len > max ? 'yes' : 'no';
      return msgs(kind, `one block of ${len} bytes`, [batch([enc(op)])], fatal, fatal === 'no' ? [op] : []);
    }
    case 'heavy-clock': {
      // A clock with the most exceptions allowed (CPU per comparison with it), or more.
      const origin = pick(rng, ctx.origins);
      const seq = ctx.ops.heldBy(origin) + 1;
      const max = LIMITS.clockExceptions;
      const n = rng.float() < 0.6 ? max : rng.int(max + 1, 65_000);
      const except = Array.from({ length: n }, (_, i) => ({ origin: ctx.targetOrigin, seq: i + 1 }));
      const path = poolPath(rng);
      const heavy = ctx.ops.at(origin, seq, {
        path,
        kind: Kind.Mkdir,
        clock: { vv: { [origin]: seq, [ctx.targetOrigin]: n + 10 }, except },
      });
      // A second operation on the same path has to be compared with that history.
      const next = ctx.ops.at(origin, seq + 1, { path, kind: Kind.Mkdir });
      const ok = n <= max;
      return msgs(
        kind,
        `${n} clock exceptions`,
        [batch([heavy, next].map(enc))],
        ok ? 'no' : 'yes',
        ok ? [heavy, next] : [],
      );
    }
    case 'huge-counts': {
      const variant = rng.int(0, 2);
      if (variant === 0) {
        // Many valid ops in one batch.
        const origin = pick(rng, ctx.origins);
        const n = rng.int(500, 2000);
        const base = ctx.ops.heldBy(origin);
        const ops = Array.from({ length: n }, (_, i) =>
          ctx.ops.at(origin, base + 1 + i, {
            path: `many/${i % 50}`,
            kind: i % 2 ? Kind.Mkdir : Kind.Delete,
          }),
        );
        // More than MAX_BATCH_OPS (512): a daemon may take them or refuse the batch.
        return msgs(kind, `${n} valid ops`, [batch(ops.map(enc))], 'maybe', ops);
      }
      if (variant === 1) {
        const members = Array.from({ length: 5000 }, () => member(rng, ctx));
        return msgs(kind, '5000 gossip members', [encodeFrame({ gossip: { members } })], 'no');
      }
      const vv: Record<string, number> = {};
      for (let i = 0; i < 5000; i++) vv[randomOrigin(rng)] = rng.int(1, 2 ** 40);
      return msgs(
        kind,
        'welcome with 5000 origins',
        [encodeFrame({ welcome: { logClock: { vv, except: [] } } })],
        'no',
      );
    }
    case 'block-reply-garbage': {
      const req = ctx.requested();
      const n = rng.int(1, 20);
      const messages = Array.from({ length: n }, () =>
        encodeFrame({
          blockReply: {
            id: rng.float() < 0.5 ? rng.int(0, 2000) : rng.u32(),
            data: req.length && rng.float() < 0.3 ? rng.bytes(rng.int(0, 70_000)) : bytes(rng, 64),
            missing: rng.float() < 0.3,
          },
        }),
      );
      return msgs(kind, `${n} unsolicited replies`, messages, 'no');
    }
    case 'block-requests':
    case 'block-request-flood': {
      // Floods around the daemon's queue limit (1024 at the time of writing): above it the link may drop.
      const n = kind === 'block-requests' ? rng.int(1, 40) : rng.int(200, 1300);
      const hashes = [...ctx.known.keys()];
      const messages = Array.from({ length: n }, () =>
        encodeFrame({
          blockRequest: {
            id: rng.u32(),
            hash:
              hashes.length && rng.float() < 0.5
                ? Buffer.from(pick(rng, hashes), 'hex')
                : rng.bytes(pick(rng, [0, 31, 32, 33])),
            pathHint: rng.float() < 0.5 ? poolPath(rng) : pick(rng, encodableRefusedPaths(ctx.canary)),
            offsetHint: rng.float() < 0.8 ? rng.int(0, 70_000) : hugeNumber(rng),
            length: pick(rng, [0, 1, rng.int(1, 65536), 64 * 1024 * 1024, 64 * 1024 * 1024 + 1, 2 ** 32 - 1]),
            // A run of blocks now and then: lengths that may not add up, zeros, huge counts.
            runLengths:
              rng.float() < 0.7
                ? []
                : Array.from({ length: pick(rng, [1, 2, rng.int(2, 64), 1025, 5000]) }, () =>
                    pick(rng, [0, 1, rng.int(1, 65536), 2 ** 32 - 1]),
                  ),
          },
        }),
      );
      return msgs(kind, `${n} requests`, messages, n > 256 ? 'maybe' : 'no');
    }
    case 'welcome-garbage': {
      // Mostly claiming to hold all the daemon has (or more): a Welcome that claims less makes
      // it send its whole log again, which is legitimate and costs the run, so only 1 in 5.
      const vv: Record<string, number> = {};
      if (rng.float() < 0.8) {
        for (const [o, n] of Object.entries(ctx.daemonClock()?.vv ?? {})) {
          vv[o] = rng.float() < 0.3 ? hugeNumber(rng) : n + rng.int(0, 1000);
        }
      }
      const n = rng.int(0, 10);
      for (let i = 0; i < n; i++) {
        const key = pick(rng, [
          ctx.targetOrigin,
          randomOrigin(rng),
          '__proto__',
          'constructor',
          '',
          pick(rng, BAD_ORIGINS),
        ]);
        vv[key] = rng.float() < 0.5 ? hugeNumber(rng) : rng.int(0, 100);
      }
      const except = rng.float() < 0.3 ? [{ origin: ctx.targetOrigin, seq: rng.int(0, 10) }] : [];
      return msgs(
        kind,
        `${Object.keys(vv).length} entries`,
        [encodeFrame({ welcome: { logClock: { vv, except } } })],
        'no',
      );
    }
    case 'gossip-garbage':
      return msgs(kind, 'members', [encodeFrame(gossipFrame(rng, ctx))], 'no');
    case 'stall': {
      const frame = batch(validBatch(rng, ctx).map(enc));
      const raw = encodeWsFrame({ payload: frame });
      const cut = rng.int(1, raw.length - 1);
      const drop = rng.float() < 0.3;
      return {
        category: `post/${kind}`,
        note: `${cut}/${raw.length} bytes, then ${drop ? 'drop the connection' : 'the rest'}`,
        input: {
          type: 'stall',
          first: raw.subarray(0, cut),
          rest: drop ? null : raw.subarray(cut),
          ms: rng.int(20, 300),
        },
      };
    }
  }
}

/**
 * A gossiped member summary. Node ids come from a small pool (real members included):
 * invented members are a finding of their own (test/e2e/security.test.ts), and an
 * unbounded pool would make every later connection carry thousands of summaries.
 */
function member(rng: Rng, ctx: PostContext) {
  return {
    nodeId: pick(rng, [
      '',
      'x',
      ctx.targetOrigin.split('~')[0]!,
      'partner',
      'fuzz-0',
      '\0',
      'é'.repeat(200),
      `ghost-${rng.int(0, 7)}`,
    ]),
    origin: pick(rng, [ctx.targetOrigin, randomOrigin(rng), '', '../x']),
    version: rng.float() < 0.3 ? hugeNumber(rng) : rng.int(0, 100),
    logClock: {
      vv: {
        [pick(rng, [ctx.targetOrigin, randomOrigin(rng), '__proto__'])]:
          rng.float() < 0.5 ? 2 ** 53 - 1 : rng.int(0, 9),
      },
      except: [],
    },
    refused:
      rng.float() < 0.3
        ? [
            {
              dot: { origin: randomOrigin(rng), seq: rng.int(0, 9) },
              path: pick(rng, encodableRefusedPaths(ctx.canary)),
            },
          ]
        : [],
    listen: pick(rng, ['', '127.0.0.1:1', '[::1]:0', 'evil.example:80', 'x'.repeat(300), '10.0.0.1:22']),
    updatedMs: rng.float() < 0.3 ? hugeNumber(rng) : Date.now(),
  };
}

function gossipFrame(rng: Rng, ctx: PostContext): Frame {
  return { gossip: { members: Array.from({ length: rng.int(0, 8) }, () => member(rng, ctx)) } };
}

// --- inputs before or within the handshake ---------------------------------------------------

/** Input kinds before or within the handshake, and their weights. */
export const PRE_KINDS = [
  [6, 'random-first'],
  [4, 'truncated-hello'],
  [8, 'bad-hello'],
  [3, 'proof-first'],
  [6, 'bad-proof'],
  [3, 'wrong-secret'],
  [2, 'no-secret'],
  [4, 'frames-before-auth'],
  [3, 'ws-violation'],
  [2, 'http-garbage'],
  [1, 'wrong-path'],
  [1, 'too-much-data'],
  [1, 'oversized-declared'],
  [1, 'stall'],
] as const;

type PreKind = (typeof PRE_KINDS)[number][1];

export function genPre(ctx: PreContext): Generated<PreInput> {
  const { rng } = ctx;
  const base = { secret: ctx.secret, nodeId: `pre-${ctx.serial % 8}` };
  const kind: PreKind = weighted(
    rng,
    PRE_KINDS.filter(([, k]) => !ctx.skip?.has(`pre/${k}`)),
  );
  const out = (note: string, input: PreInput) => ({ category: `pre/${kind}`, note, input });
  const hello = (h: Partial<Frame & { hello: object }>['hello'] = {}) =>
    encodeFrame({
      hello: {
        protocol: 1,
        nodeId: 'pre',
        origin: 'pre~abcdefgh',
        nonce: rng.bytes(32),
        listen: '',
        clusterSize: 2,
        instance: rng.bytes(16),
        ...h,
      },
    });
  switch (kind) {
    case 'random-first': {
      const b = bytes(rng, 300);
      return out(`${b.length} bytes`, { ...base, steps: [{ do: 'message', data: b }] });
    }
    case 'truncated-hello': {
      const h = Buffer.from(hello());
      const cut = rng.int(0, h.length - 1);
      return out(`${cut}/${h.length}`, { ...base, steps: [{ do: 'message', data: h.subarray(0, cut) }] });
    }
    case 'bad-hello': {
      const variants: [string, () => Uint8Array][] = [
        ['protocol 0', () => hello({ protocol: 0 })],
        ['protocol 2', () => hello({ protocol: 2 })],
        ['protocol 2^32-1', () => hello({ protocol: 2 ** 32 - 1 })],
        ['empty node id', () => hello({ nodeId: '' })],
        ['node id 257 bytes', () => hello({ nodeId: 'n'.repeat(257) })],
        ['node id = the daemon', () => hello({ nodeId: ctx.targetNodeId })],
        ['nonce 0', () => hello({ nonce: new Uint8Array(0) })],
        ['nonce 31', () => hello({ nonce: rng.bytes(31) })],
        ['nonce 1 MiB', () => hello({ nonce: rng.bytes(1 << 17) })],
        ['instance 0', () => hello({ instance: new Uint8Array(0) })],
        ['instance 17', () => hello({ instance: rng.bytes(17) })],
        ['hello as varint', () => varintField(FrameField.hello, 5)],
        [
          'hello fields wrong types',
          () => bytesField(FrameField.hello, Buffer.concat([bytesField(1, rng.bytes(3)), varintField(2, 7)])),
        ],
        ['empty hello', () => bytesField(FrameField.hello, Buffer.alloc(0))],
      ];
      const [note, make] = pick(rng, variants);
      return out(note, { ...base, steps: [{ do: 'message', data: make() }] });
    }
    case 'proof-first':
      return out('proof before hello', {
        ...base,
        steps: [{ do: 'message', data: encodeFrame({ proof: { mac: rng.bytes(32) } }) }],
      });
    case 'bad-proof': {
      const mac = pick(rng, [
        new Uint8Array(0),
        rng.bytes(32),
        rng.bytes(31),
        rng.bytes(33),
        rng.bytes(4096),
      ]);
      const extra: PreStep[] =
        rng.float() < 0.3 ? [{ do: 'message', data: encodeFrame({ proof: { mac: rng.bytes(32) } }) }] : [];
      return out(`mac of ${mac.length}`, {
        ...base,
        steps: [
          { do: 'hello' },
          { do: 'read-hello' },
          { do: 'message', data: encodeFrame({ proof: { mac } }) },
          ...extra,
        ],
      });
    }
    case 'wrong-secret':
      return out('complete handshake, wrong secret', {
        ...base,
        secret: `${ctx.secret}x`,
        steps: [{ do: 'hello' }, { do: 'read-hello' }, { do: 'proof' }],
      });
    case 'no-secret':
      return out('complete handshake, no secret', {
        ...base,
        secret: null,
        steps: [{ do: 'hello' }, { do: 'read-hello' }, { do: 'proof' }],
      });
    case 'frames-before-auth': {
      // Operations, block requests and gossip before the peer has proven anything.
      const op: Operation = {
        format: 1,
        origin: 'unauth~abcdefgh',
        seq: 1,
        clock: { vv: { 'unauth~abcdefgh': 1 }, except: [] },
        hlc: Date.now() * 1024,
        path: `unauth-${ctx.serial}.txt`,
        kind: Kind.Put,
        mode: 0o644,
        mtimeMs: Date.now(),
        content: contentOf(Buffer.from('unauthenticated\n')),
        link: '',
        to: '',
        entries: [],
      };
      const frames: Uint8Array[] = [
        batch([enc(op)], true),
        encodeFrame({
          blockRequest: {
            id: 1,
            hash: rng.bytes(32),
            pathHint: '',
            offsetHint: 0,
            length: 10,
            runLengths: [],
          },
        }),
        encodeFrame({ welcome: { logClock: emptyClock() } }),
        encodeFrame(gossipFrame(rng, { targetOrigin: 'x~abcdefgh' } as PostContext)),
      ];
      const first = pick(rng, frames);
      const afterHello = rng.float() < 0.5;
      const steps: PreStep[] = afterHello
        ? [{ do: 'hello' }, { do: 'read-hello' }, { do: 'message', data: first }]
        : [{ do: 'message', data: first }];
      return out(`${afterHello ? 'after hello' : 'first'}: ${op.path}`, { ...base, steps });
    }
    case 'ws-violation': {
      const variants: [string, () => Buffer][] = [
        ['text', () => encodeWsFrame({ opcode: Opcode.Text, payload: Buffer.from('{"hello":1}') })],
        ['unmasked', () => encodeWsFrame({ payload: hello(), mask: false })],
        ['rsv', () => encodeWsFrame({ payload: hello(), rsv: 4 })],
        ['opcode 3', () => encodeWsFrame({ opcode: 3, payload: hello() })],
        ['bare continuation', () => encodeWsFrame({ opcode: Opcode.Continuation, payload: hello() })],
      ];
      const [note, make] = pick(rng, variants);
      return out(note, { ...base, steps: [{ do: 'raw', data: make() }] });
    }
    case 'http-garbage': {
      const req = pick(rng, [
        () => rng.bytes(rng.int(1, 2000)),
        () => Buffer.from('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
        () => Buffer.from(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\n\r\n`),
        () => Buffer.from(`GET /ws HTTP/1.1\r\n${'X-A: b\r\n'.repeat(3000)}\r\n`),
        () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        () => Buffer.from('\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03'),
      ])();
      // An incomplete request ends only at the HTTP server's header timeout (10 s).
      return out(`${req.length} bytes`, { ...base, request: req, steps: [], holdMs: 13_000 });
    }
    case 'wrong-path':
      return out('upgrade on another path', {
        ...base,
        path: pick(rng, ['/', '/status', '/ws/', '/WS', '/../ws']),
        steps: [],
      });
    case 'too-much-data': {
      // More than the 256 KiB an unauthenticated peer may send.
      const chunk = encodeWsFrame({ payload: rng.bytes(200 * 1024) });
      return out('2 x 200 KiB before any hello', {
        ...base,
        steps: [{ do: 'raw', data: Buffer.concat([chunk, chunk]) }],
      });
    }
    case 'oversized-declared':
      return out('declares 2^40 bytes', {
        ...base,
        steps: [{ do: 'raw', data: encodeWsFrame({ payload: rng.bytes(10), declaredLength: 2 ** 40 }) }],
      });
    case 'stall': {
      const h = encodeWsFrame({ payload: hello() });
      const cut = rng.int(1, h.length - 1);
      const afterHello = rng.float() < 0.5;
      return out(`${cut}/${h.length} bytes of a hello, then silence`, {
        ...base,
        steps: afterHello
          ? [
              { do: 'hello' },
              { do: 'read-hello' },
              { do: 'raw', data: encodeWsFrame({ payload: rng.bytes(40) }).subarray(0, 10) },
            ]
          : [{ do: 'raw', data: h.subarray(0, cut) }],
        holdMs: 10_000,
      });
    }
  }
}
