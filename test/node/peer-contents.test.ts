// Block-list patches between peers: PeerContents picks the base the peer holds and encodes
// patched operations; rebuildBatch turns them back into the very operations that were sent.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { digestOf } from '../../src/fs/hash-pipeline.ts';
import { CorruptRecordError } from '../../src/log/record.ts';
import type { LoggedOp } from '../../src/log/store.ts';
import {
  PATCH_MIN_BLOCKS,
  PeerContents,
  patchBaseReader,
  rebuildBatch,
} from '../../src/node/peer-contents.ts';
import { decodeOperation, encodeOperation } from '../../src/proto/codec.ts';
import { type Block, type Dot, Kind, type Operation } from '../../src/proto/types.ts';
import { silentLogger } from '../../src/util/logger.ts';

const ORIGIN = 'node1~abcdefgh';
const h = (tag: string) => createHash('sha256').update(tag).digest();

/** A Put of `path` whose blocks are 1,000 bytes each, tagged so that edits are visible. */
function put(seq: number, path: string, tags: string[]): LoggedOp {
  const blocks: Block[] = tags.map((t, i) => ({ offset: i * 1000, length: 1000, hash: h(t) }));
  const op: Operation = {
    format: 1,
    origin: ORIGIN,
    seq,
    clock: { vv: { [ORIGIN]: seq }, except: [] },
    hlc: seq,
    path,
    kind: Kind.Put,
    mode: 0o644,
    mtimeMs: 1,
    content: { size: blocks.length * 1000, digest: digestOf(blocks), blocks, inlineData: new Uint8Array(0) },
    link: '',
    to: '',
    entries: [],
  };
  return { op, bytes: encodeOperation(op) };
}

const tags = (n: number, prefix = 'b') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const key = (d: Dot) => `${d.origin}:${d.seq}`;

function logOf(items: LoggedOp[]): (d: Dot) => LoggedOp | null {
  const m = new Map(items.map((i) => [key(i.op), i]));
  return (d) => m.get(key(d)) ?? null;
}

/** Decode a batch as a receiver does. */
const decode = (ops: Uint8Array[]) => ops.map((bytes) => ({ op: decodeOperation(bytes), bytes }));

/** Two versions of 'f', the second one block longer, and a sender that has sent the first. */
function sentFirst() {
  const n = PATCH_MIN_BLOCKS;
  const v1 = put(1, 'f', tags(n));
  const v2 = put(2, 'f', [...tags(n), 'x']);
  const sender = new PeerContents(logOf([v1, v2]));
  sender.encode([v1]);
  return { n, v1, v2, sender };
}

test('an edit of a long file goes as a patch against the version the peer holds, and comes back whole', () => {
  const n = PATCH_MIN_BLOCKS * 2;
  const v1 = put(1, 'big', tags(n));
  const edited = tags(n);
  edited[70] = 'new70';
  edited[71] = 'new71';
  const v2 = put(2, 'big', edited);
  const sender = new PeerContents(logOf([v1, v2]));
  const first = sender.encode([v1]);
  assert.deepEqual(first.patches, [], 'nothing to patch against yet');
  assert.deepEqual(first.ops[0], v1.bytes);
  const second = sender.encode([v2]);
  assert.deepEqual(second.patches, [{ op: 0, base: { origin: ORIGIN, seq: 1 }, head: 70, tail: n - 72 }]);
  assert.ok(second.ops[0]!.length < 300, `patched op is ${second.ops[0]!.length} bytes`);
  assert.ok(v2.bytes.length > 5000);
  const got = rebuildBatch(decode(second.ops), second.patches, logOf([v1]));
  assert.ok(got.ok);
  assert.equal(got.missingBase, false);
  assert.deepEqual(got.ops[0]!.bytes, v2.bytes, 'the receiver stores the bytes the origin made');
});

test('a base earlier in the same batch is found there', () => {
  const n = PATCH_MIN_BLOCKS;
  const v1 = put(1, 'f', tags(n));
  const v2 = put(2, 'f', [...tags(n), 'appended']);
  const sender = new PeerContents(logOf([v1, v2]));
  const wire = sender.encode([v1, v2]);
  assert.equal(wire.patches.length, 1);
  assert.equal(wire.patches[0]!.op, 1);
  const got = rebuildBatch(decode(wire.ops), wire.patches, () => null);
  assert.ok(got.ok);
  assert.deepEqual(
    got.ops.map((o) => o.bytes),
    [v1.bytes, v2.bytes],
  );
});

test('a base the receiver does not hold ends the batch and asks for a restatement', () => {
  const n = PATCH_MIN_BLOCKS;
  const v1 = put(1, 'f', tags(n));
  const v2 = put(2, 'f', [...tags(n), 'x']);
  const other = put(3, 'g', tags(3, 'g'));
  const sender = new PeerContents(logOf([v1, v2, other]));
  sender.encode([v1]);
  const wire = sender.encode([v2, other]);
  const got = rebuildBatch(decode(wire.ops), wire.patches, () => null);
  assert.ok(got.ok);
  assert.equal(got.missingBase, true);
  assert.deepEqual(got.ops, [], 'nothing from the missing base on');
  // The receiver restates its log without v1: the sender forgets it, and sends lists whole.
  sender.restated({ [ORIGIN]: 0 });
  assert.deepEqual(sender.encode([v2]).patches, []);
  // A restatement that covers the base keeps it.
  const again = new PeerContents(logOf([v1, v2]));
  again.encode([v1]);
  again.restated({ [ORIGIN]: 1 });
  assert.equal(again.encode([v2]).patches.length, 1);
});

test('patches that do not fit are violations, with the reason', () => {
  const { n, v1, v2, sender } = sentFirst();
  const { ops, patches } = sender.encode([v2]);
  const base = logOf([v1]);
  const bad = (p: typeof patches, why: RegExp) => {
    const got = rebuildBatch(decode(ops), p, base);
    assert.ok(!got.ok);
    assert.match(got.problem, why);
  };
  bad([{ ...patches[0]!, op: 1 }], /names operation 1 of a batch of 1/);
  bad([{ ...patches[0]!, base: { origin: 'o!p~../x', seq: 1 } }], /not a valid operation id/);
  bad([{ ...patches[0]!, base: { origin: ORIGIN, seq: 0 } }], /not a valid operation id/);
  bad([patches[0]!, patches[0]!], /names operation 0/);
  bad([{ ...patches[0]!, head: n + 1, tail: 0 }], /keeps/);
  bad([{ ...patches[0]!, head: patches[0]!.head - 1 }], /invalid operation .*: (blocks do not tile|digest)/);
});

test('short lists, and operations other than writes, go as they are', () => {
  const short = put(1, 's', tags(PATCH_MIN_BLOCKS - 1));
  const short2 = put(2, 's', tags(PATCH_MIN_BLOCKS - 1));
  const sender = new PeerContents(logOf([short, short2]));
  assert.deepEqual(sender.encode([short, short2]).patches, []);
  // A delete after a long write, and a write after the delete: no base for the delete.
  const { v1, v2 } = sentFirst();
  const gone = { ...v1.op, seq: 2, kind: Kind.Delete, content: null };
  const del = { op: gone, bytes: encodeOperation(gone) };
  const after = new PeerContents(logOf([v1, del]));
  const wire = after.encode([v1, del]);
  assert.deepEqual(wire.patches, []);
  assert.deepEqual(wire.ops[1], del.bytes);
  // The long write after it is still patched against v1, which the peer holds.
  const v3 = { ...v2.op, seq: 3 };
  assert.equal(after.encode([{ op: v3, bytes: encodeOperation(v3) }]).patches.length, 1);
});

test('a patch base that cannot be read counts as absent, and says so', () => {
  const warned: string[] = [];
  const logger = { ...silentLogger, warn: (msg: string) => void warned.push(msg) };
  const damaged = {
    getOp: (): LoggedOp | null => {
      throw new CorruptRecordError('o!x', 'bad checksum');
    },
  };
  const read = patchBaseReader(damaged, logger);
  assert.equal(read({ origin: ORIGIN, seq: 1 }), null);
  assert.deepEqual(warned, ['cannot read a patch base']);
});

test('a resend of the newest version, after a restatement without it, is patched against the one before', () => {
  const { n, v2, sender } = sentFirst();
  assert.equal(sender.encode([v2]).patches.length, 1);
  sender.restated({ [ORIGIN]: 1 }); // the peer had not stored v2 yet
  const again = sender.encode([v2]);
  assert.deepEqual(again.patches, [{ op: 0, base: { origin: ORIGIN, seq: 1 }, head: n, tail: 0 }]);
});
