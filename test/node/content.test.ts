// Fetching a file's blocks from peers: the assembler keeps a bounded window of blocks in
// flight and refills it in bursts (half a window at a time, so requests share socket
// writes); the fetcher spreads requests over peers, refills a busy peer in bursts too, and
// sends a request that found a wrong or missing block to the next peer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { INLINE_MAX } from '../../src/fs/hash-pipeline.ts';
import type { TempFile } from '../../src/fs/types.ts';
import {
  type BlockFetcher,
  ContentAssembler,
  ContentUnavailableError,
  loggedOpReader,
  sha256,
  withLoggedBytes,
} from '../../src/node/content.ts';
import { Fetcher } from '../../src/node/fetcher.ts';
import type { LocalBlocks } from '../../src/node/local-blocks.ts';
import type { Session } from '../../src/node/session.ts';
import {
  type Block,
  type BlockReply,
  type Content,
  type Frame,
  Kind,
  type Version,
} from '../../src/proto/types.ts';
import { realEnv } from '../../src/util/env.ts';
import { silentLogger } from '../../src/util/logger.ts';

const BLOCK = 1024;

function contentOf(data: Uint8Array, size = BLOCK): Content {
  const blocks: Block[] = [];
  for (let off = 0; off < data.length; off += size) {
    const part = data.subarray(off, Math.min(off + size, data.length));
    blocks.push({ offset: off, length: part.length, hash: sha256(part) });
  }
  return { size: data.length, digest: sha256(data), blocks, inlineData: new Uint8Array() };
}

function memoryTemp(size: number): TempFile & { bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  return {
    path: '.resonate-tmp-test',
    bytes,
    async write(data: Uint8Array, position: number) {
      bytes.set(data, position);
    },
    async prepare() {},
    async commit() {
      throw new Error('not used');
    },
    async abort() {},
  };
}

/**
 * A disk that holds no block but might hold any (a hinted file its index does not vouch
 * for): every block is asked for on its own.
 */
const noLocalBlocks = {
  read: async () => null,
  trustedRun: async () => null,
  mayHave: () => true,
} as unknown as LocalBlocks;
/** A disk known to hold none of the blocks: they are asked for in runs. */
const emptyDisk = { ...noLocalBlocks, mayHave: () => false } as unknown as LocalBlocks;

/** A peer under the test's control: fetches wait until the test answers them. */
class ManualFetcher implements BlockFetcher {
  readonly waiting: { block: Block; answer: (d: Uint8Array | null) => void }[] = [];
  readonly runs: { blocks: readonly Block[]; answer: (d: Uint8Array | null) => void }[] = [];
  calls = 0;
  fetch(block: Block): Promise<Uint8Array | null> {
    this.calls++;
    return new Promise((answer) => this.waiting.push({ block, answer }));
  }
  fetchRun(blocks: readonly Block[]): Promise<Uint8Array | null> {
    return new Promise((answer) => this.runs.push({ blocks, answer }));
  }
}

const settle = () => new Promise((r) => setImmediate(r));

test('the assembler fills its window, refills it by halves, and writes every block in place', async () => {
  const data = randomBytes(200 * BLOCK);
  const remote = new ManualFetcher();
  const tmp = memoryTemp(data.length);
  const done = new ContentAssembler(noLocalBlocks, remote).fill(tmp, 'f', contentOf(data));
  const answer = (n: number) => {
    for (const w of remote.waiting.splice(0, n))
      w.answer(data.subarray(w.block.offset, w.block.offset + w.block.length));
  };

  await settle();
  assert.equal(remote.calls, 64, 'a full window of requests');
  answer(31);
  await settle();
  assert.equal(remote.calls, 64, 'no refill until half the window has settled');
  answer(1);
  await settle();
  assert.equal(remote.calls, 96, 'then 32 requests at once');
  while (remote.waiting.length) {
    answer(remote.waiting.length);
    await settle();
  }
  const stats = await done;
  assert.equal(remote.calls, 200);
  assert.equal(stats.remoteBytes, data.length);
  assert.ok(Buffer.from(tmp.bytes).equals(data), 'the temp file holds the content');
});

test('a block no peer has fails the whole file as unavailable', async () => {
  const data = randomBytes(10 * BLOCK);
  const remote = new ManualFetcher();
  const done = new ContentAssembler(noLocalBlocks, remote).fill(
    memoryTemp(data.length),
    'f',
    contentOf(data),
  );
  await settle();
  for (const [i, w] of remote.waiting.splice(0).entries())
    w.answer(i === 3 ? null : data.subarray(w.block.offset, w.block.offset + w.block.length));
  await assert.rejects(done, ContentUnavailableError);
});

test('blocks no file here holds go to peers in runs of up to 1 MiB, each written in one piece', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 5 * 4096 + 7);
  const remote = new ManualFetcher();
  const tmp = memoryTemp(data.length);
  const writes: number[] = [];
  const write = tmp.write.bind(tmp);
  tmp.write = (d, at) => {
    writes.push(d.length);
    return write(d, at);
  };
  const content = contentOf(data, 4096);
  const done = new ContentAssembler(emptyDisk, remote).fill(tmp, 'f', content);
  await settle();
  assert.equal(remote.calls, 0, 'no block asked for on its own');
  assert.deepEqual(
    remote.runs.map((r) => r.blocks.length),
    [256, 256, 256, 6],
    'runs of 1 MiB, then the rest',
  );
  // The last run: no peer serves it whole, so its blocks are asked for one by one.
  const last = remote.runs.pop()!;
  last.answer(null);
  for (const r of remote.runs.splice(0)) {
    const from = r.blocks[0]!.offset;
    const b = r.blocks.at(-1)!;
    r.answer(data.subarray(from, b.offset + b.length));
  }
  await settle();
  assert.deepEqual(
    remote.waiting.map((w) => w.block.offset),
    last.blocks.map((b) => b.offset),
  );
  for (const w of remote.waiting.splice(0))
    w.answer(data.subarray(w.block.offset, w.block.offset + w.block.length));
  const stats = await done;
  assert.equal(stats.remoteBytes, data.length);
  assert.deepEqual(writes.slice(0, 3), [1 << 20, 1 << 20, 1 << 20], 'a run is one write');
  assert.equal(writes.length, 3 + 6);
  assert.ok(Buffer.from(tmp.bytes).equals(data), 'the temp file holds the content');
});

/** A peer link as the fetcher sees it: it records requests; the test replies. */
function fakeSession(): Session & { requests: { id: number; offset: number }[] } {
  const requests: { id: number; offset: number }[] = [];
  return {
    isClosed: false,
    requests,
    send(f: Frame) {
      if ('blockRequest' in f) requests.push({ id: f.blockRequest.id, offset: f.blockRequest.offsetHint });
      return true;
    },
  } as unknown as Session & { requests: { id: number; offset: number }[] };
}

test('the fetcher refills a busy peer by halves, and asks the next peer when a reply is wrong', async () => {
  const data = randomBytes(300 * BLOCK);
  const blocks = contentOf(data).blocks;
  const peer = fakeSession();
  const sessions: Session[] = [peer];
  const fetcher = new Fetcher(() => sessions, realEnv);
  const results = blocks.map((b) => fetcher.fetch(b, 'f'));
  const reply = (s: ReturnType<typeof fakeSession>, n: number, corrupt = false) => {
    for (const r of s.requests.splice(0, n)) {
      const bytes = Uint8Array.from(data.subarray(r.offset, r.offset + BLOCK));
      if (corrupt) bytes[0]! ^= 1;
      fetcher.onReply(s, { id: r.id, data: bytes, missing: false } satisfies BlockReply);
    }
  };

  assert.equal(peer.requests.length, 128, 'at most 128 requests in flight per peer');
  reply(peer, 63);
  assert.equal(peer.requests.length, 65, 'no refill while more than half are in flight');
  reply(peer, 1);
  assert.equal(peer.requests.length, 128, '64 sent at once');

  // A corrupted reply counts as missing there: the request goes first to another peer (which,
  // idle, also takes the backlog).
  const other = fakeSession();
  sessions.push(other);
  const corrupted = peer.requests[0]!.offset;
  reply(peer, 1, true);
  assert.equal(other.requests[0]?.offset, corrupted);
  assert.ok(!peer.requests.some((r) => r.offset === corrupted), 'not asked of the peer that lied');
  while (peer.requests.length || other.requests.length) {
    reply(peer, peer.requests.length);
    reply(other, other.requests.length);
  }
  const got = await Promise.all(results);
  got.forEach((d, i) => {
    assert.ok(d, `block ${i}`);
    assert.ok(Buffer.from(d).equals(data.subarray(i * BLOCK, (i + 1) * BLOCK)), `block ${i} content`);
  });
  assert.equal(fetcher.pending, 0);
});

test('the fetcher asks for a run in one request and checks every block of the reply', async () => {
  const data = randomBytes(8 * BLOCK);
  const blocks = contentOf(data).blocks;
  const sent: Frame[] = [];
  const peer = { isClosed: false, send: (f: Frame) => sent.push(f) > 0 } as unknown as Session;
  const other = fakeSession();
  const sessions: Session[] = [peer];
  const fetcher = new Fetcher(() => sessions, realEnv);
  const run = blocks.slice(2, 6);
  const got = fetcher.fetchRun(run, 'f');
  const rq = sent.map((f) => ('blockRequest' in f ? f.blockRequest : null))[0];
  assert.ok(rq);
  assert.deepEqual(
    { offset: rq.offsetHint, length: rq.length, lengths: rq.runLengths, path: rq.pathHint },
    { offset: 2 * BLOCK, length: 4 * BLOCK, lengths: [BLOCK, BLOCK, BLOCK, BLOCK], path: 'f' },
  );
  assert.ok(Buffer.from(rq.hash).equals(Buffer.concat(run.map((b) => b.hash))), 'the hashes back to back');
  // One wrong byte in the third block: the whole run goes to the next peer.
  sessions.push(other);
  const bad = Uint8Array.from(data.subarray(2 * BLOCK, 6 * BLOCK));
  bad[2 * BLOCK + 5]! ^= 1;
  fetcher.onReply(peer, { id: rq.id, data: bad, missing: false });
  assert.equal(other.requests.length, 1);
  assert.equal(other.requests[0]!.offset, 2 * BLOCK);
  // A reply one byte short is as wrong; with no peer left, the run is unavailable (null).
  fetcher.onReply(other, {
    id: other.requests[0]!.id,
    data: data.subarray(2 * BLOCK, 6 * BLOCK - 1),
    missing: false,
  });
  assert.equal(await got, null);
  sessions.splice(0, 2, other);
  const again = fetcher.fetchRun(run, 'f');
  const r2 = other.requests.at(-1)!;
  assert.equal(other.requests.length, 2);
  fetcher.onReply(other, { id: r2.id, data: data.subarray(2 * BLOCK, 6 * BLOCK), missing: false });
  assert.ok(Buffer.from((await again)!).equals(data.subarray(2 * BLOCK, 6 * BLOCK)));
  assert.equal(fetcher.pending, 0);
});

test('a version stored without its inline bytes gets them back from the operation that wrote it', async () => {
  const data = randomBytes(700);
  const full: Content = { ...contentOf(data), inlineData: data };
  const hashed: Content = { ...full, inlineData: new Uint8Array() };
  const version = (c: Content | null): Version => ({
    dot: { origin: 'o', seq: 3 },
    clock: { vv: { o: 3 }, except: [] },
    hlc: 1,
    kind: Kind.Put,
    mode: 0o644,
    mtimeMs: 1,
    content: c,
    link: '',
  });
  const logged = (c: Content | null) => () => ({ op: { content: c }, bytes: new Uint8Array() }) as never;
  assert.deepEqual([...(withLoggedBytes(version(hashed), logged(full))?.inlineData ?? [])], [...data]);
  // Not this content in the log (another op at that dot, a rename), no op, a damaged record:
  // the hashed content is returned and its blocks are assembled as for any file.
  const other: Content = { ...full, digest: sha256(Buffer.from('x')) };
  assert.equal(withLoggedBytes(version(hashed), logged(other)), hashed);
  assert.equal(withLoggedBytes(version(hashed), logged(null)), hashed);
  assert.equal(
    withLoggedBytes(version(hashed), () => null),
    hashed,
  );
  const damaged = () => {
    throw new Error('damaged');
  };
  // A damaged record is read through loggedOpReader, which says so and answers null.
  const warned: string[] = [];
  const reader = loggedOpReader(
    { getOp: damaged },
    { ...silentLogger, warn: (m: string) => void warned.push(m) },
    'x',
  );
  assert.equal(withLoggedBytes(version(hashed), reader), hashed);
  assert.deepEqual(warned, ['cannot read x']);
  // Content that has its bytes, or none to have, is not looked up; nor is a file too large
  // to carry its bytes in its operation (INLINE_MAX): every 4 KiB file of a burst, every
  // edit of a large file, read and decoded its operation for nothing.
  assert.equal(withLoggedBytes(version(full), damaged), full);
  assert.equal(withLoggedBytes(version(null), damaged), null);
  const larger = contentOf(randomBytes(INLINE_MAX + 1));
  assert.equal(withLoggedBytes(version(larger), damaged), larger);
  // And the inline path writes those bytes without asking any peer.
  const tmp = memoryTemp(data.length);
  const remote = new ManualFetcher();
  const restored = withLoggedBytes(version(hashed), logged(full));
  assert.ok(restored);
  await new ContentAssembler(noLocalBlocks, remote).fill(tmp, 'f', restored);
  assert.equal(remote.calls, 0);
  assert.ok(Buffer.from(tmp.bytes).equals(data));
});
