// Security end to end, with real daemons on temp folders: the shared secret decides who
// syncs; without a secret nothing listens beyond loopback; a peer that knows the secret
// still cannot write outside the folder; /status wants the secret from anyone not on
// loopback. Plus one focused regression test per finding of the fuzz suite.
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LIMITS } from '../../src/node/validate.ts';
import { Kind, type Operation } from '../../src/proto/types.ts';
import { canaryChanges, escapedEntries, folderProblems } from '../fuzz/checks.ts';
import { type BlockAnswer, FuzzPeer } from '../fuzz/client.ts';
import {
  contentFromBlocks,
  contentOf,
  ESCAPE_TOKEN,
  encodeOp,
  OpFactory,
  put,
  renameFile,
  sha256,
} from '../fuzz/ops.ts';
import { cleanupHarness } from '../harness/cleanup.ts';
import { type Daemon, dumpOnFailure, runCli, startDaemon } from '../harness/daemon.ts';
import { freePort, isListening } from '../harness/ports.ts';
import { makeTempDir } from '../harness/tmp.ts';
import { snapshotTree, type Tree } from '../harness/tree.ts';
import { waitFor } from '../harness/wait.ts';

after(cleanupHarness);

const SECRET = 'correct horse battery staple';
const READY = /\bready\b/;
const SYNC_MS = 30_000;

/** A non-loopback IPv4 address of this machine (eth0 and the like), or null. */
function outsideAddress(): string | null {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

const exists = (p: string) =>
  readFile(p).then(
    () => true,
    () => false,
  );

async function waitForFile(dir: string, name: string, timeoutMs = SYNC_MS): Promise<void> {
  await waitFor(() => exists(join(dir, name)), { timeoutMs, message: `${name} in ${dir}` });
}

/** Status code of GET /status, optionally from a given local address and with a bearer token. */
function getStatus(
  host: string,
  port: number,
  opts: { from?: string; token?: string } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: '/status',
        ...(opts.from ? { localAddress: opts.from } : {}),
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Whether a TCP connection to host:port from `from` succeeds. */
function tcpConnects(host: string, port: number, from?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, ...(from ? { localAddress: from } : {}) });
    s.setTimeout(3_000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function linesOf(d: Daemon, re: RegExp): string[] {
  return d
    .lines()
    .map((l) => l.text)
    .filter((t) => re.test(t));
}

// --- who may sync --------------------------------------------------------------------------

test('two nodes with the same secret sync; a third with another secret gets and gives nothing', () =>
  dumpOnFailure(async () => {
    const root = await makeTempDir('sec-secret');
    const dirs = ['a', 'b', 'c'].map((n) => join(root, n));
    for (const d of dirs) await mkdir(d);
    await writeFile(join(dirs[2]!, 'from-c.txt'), 'c was here\n');
    const ports = [await freePort(), await freePort(), await freePort()];
    const peersOf = (i: number) => ports.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`);
    const secrets = [SECRET, SECRET, `${SECRET} (not)`];
    const names = ['alpha', 'beta', 'gamma'];
    const daemons: Daemon[] = [];
    for (let i = 0; i < 3; i++) {
      daemons.push(
        await startDaemon({
          dir: dirs[i]!,
          port: ports[i]!,
          peers: peersOf(i),
          secret: secrets[i]!,
          nodeId: names[i]!,
          name: names[i]!,
          args: ['--listen', '127.0.0.1'],
        }),
      );
    }
    const [a, b, c] = daemons as [Daemon, Daemon, Daemon];
    for (const d of daemons) await d.waitForLine(READY);
    await a.waitForLine(/peer connected peer=beta/, SYNC_MS);
    await writeFile(join(dirs[0]!, 'from-a.txt'), 'a\n');
    await writeFile(join(dirs[1]!, 'from-b.txt'), 'b\n');
    await waitForFile(dirs[1]!, 'from-a.txt');
    await waitForFile(dirs[0]!, 'from-b.txt');

    // Both directions refused on every side: gamma dials alpha and beta and they dial it.
    const refused = /refused peer .*node=gamma .*wrong secret/;
    const refusedUs = /peer refused us .*node=gamma .*wrong secret/;
    for (const d of [a, b]) {
      await d.waitForLine(refused, SYNC_MS);
      await d.waitForLine(refusedUs, SYNC_MS);
    }
    await c.waitForLine(/refused peer .*node=(alpha|beta) .*wrong secret/, SYNC_MS);
    await c.waitForLine(/peer refused us .*node=(alpha|beta) .*wrong secret/, SYNC_MS);
    // One more file after the refusals, then a pause longer than a redial.
    await writeFile(join(dirs[0]!, 'later.txt'), 'later\n');
    await waitForFile(dirs[1]!, 'later.txt');
    await new Promise((r) => setTimeout(r, 3_000));

    const names3 = async (d: string) => [...(await snapshotTree(d)).keys()].sort();
    assert.deepEqual(await names3(dirs[2]!), ['from-c.txt'], 'gamma got something');
    assert.deepEqual(
      await names3(dirs[0]!),
      ['from-a.txt', 'from-b.txt', 'later.txt'],
      'alpha got something from gamma',
    );
    assert.deepEqual(
      await names3(dirs[1]!),
      ['from-a.txt', 'from-b.txt', 'later.txt'],
      'beta got something from gamma',
    );
    assert.equal(linesOf(c, /peer connected/).length, 0, 'gamma linked to someone');
    assert.equal(linesOf(a, /peer connected peer=gamma/).length, 0);
    assert.equal(linesOf(b, /peer connected peer=gamma/).length, 0);
  }));

// --- who can reach the port ---------------------------------------------------------------------

test('a daemon without a secret is reachable on 127.0.0.1 but not on a non-loopback address', async (t) => {
  const outside = outsideAddress();
  if (!outside) {
    t.skip('no non-loopback IPv4 address on this machine');
    return;
  }
  await dumpOnFailure(async () => {
    const dir = await makeTempDir('sec-nosecret');
    const port = await freePort();
    const d = await startDaemon({ dir, port, name: 'nosecret' });
    await d.waitForLine(READY);
    await d.waitForLine(/listening on loopback only/, 1_000, { since: 0 });
    assert.equal(await tcpConnects('127.0.0.1', port), true, 'not reachable on 127.0.0.1');
    assert.equal(await getStatus('127.0.0.1', port), 200);
    assert.equal(await tcpConnects(outside, port, outside), false, `reachable on ${outside}`);
  });
});

test('--listen on a non-loopback address without a secret exits non-zero with one line, unless --insecure', async (t) => {
  const outside = outsideAddress();
  await dumpOnFailure(async () => {
    const dir = await makeTempDir('sec-listen');
    for (const host of ['0.0.0.0', '::', ...(outside ? [outside] : [])]) {
      const port = await freePort();
      const r = await runCli(['--dir', dir, '--port', String(port), '--listen', host], { timeoutMs: 20_000 });
      assert.notEqual(r.code, 0, `--listen ${host} without a secret started`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
      assert.match(lines[0]!, /--insecure/);
      assert.equal(await isListening(port), false);
    }
    if (!outside) {
      t.diagnostic('no non-loopback address: --insecure checked on 0.0.0.0 only');
    }
    const host = outside ?? '0.0.0.0';
    const port = await freePort();
    const d = await startDaemon({ dir, port, name: 'insecure', args: ['--listen', host, '--insecure'] });
    await d.waitForLine(READY);
    assert.equal(await tcpConnects(host === '0.0.0.0' ? '127.0.0.1' : host, port), true);
    await d.stop();
  });
});

test('/status from a non-loopback address: 401 without the secret, 200 with it', async (t) => {
  const outside = outsideAddress();
  if (!outside) {
    t.skip('no non-loopback IPv4 address on this machine');
    return;
  }
  await dumpOnFailure(async () => {
    const dir = await makeTempDir('sec-status');
    const port = await freePort();
    const d = await startDaemon({ dir, port, secret: SECRET, name: 'status', args: ['--listen', '0.0.0.0'] });
    await d.waitForLine(READY);
    assert.equal(await getStatus(outside, port, { from: outside }), 401, 'no token');
    assert.equal(await getStatus(outside, port, { from: outside, token: 'wrong' }), 401, 'wrong token');
    assert.equal(await getStatus(outside, port, { from: outside, token: `${SECRET}x` }), 401, 'longer token');
    assert.equal(await getStatus(outside, port, { from: outside, token: SECRET }), 200, 'right token');
    assert.equal(await getStatus('127.0.0.1', port), 200, 'loopback needs no token');
  });
});

// Before e06439d the daemon bound :: and then 0.0.0.0, which a dual-stack :: already holds,
// and exited "port in use".
test('a daemon with a secret starts with the default listen address and is reachable on every interface', () =>
  dumpOnFailure(async () => {
    const dir = await makeTempDir('sec-default-listen');
    const port = await freePort();
    const d = await startDaemon({ dir, port, secret: SECRET, name: 'default-listen' });
    await d.waitForLine(READY, 20_000);
    assert.equal(await tcpConnects('127.0.0.1', port), true);
    const outside = outsideAddress();
    if (outside) assert.equal(await tcpConnects(outside, port, outside), true);
  }));

// --- what a peer that knows the secret can do ---------------------------------------------------

interface Attack {
  root: string;
  canary: string;
  canaryBefore: Tree;
  dirA: string;
  dirB: string;
  a: Daemon;
  b: Daemon;
  port: number;
  ops: OpFactory;
  origin: string;
  peer: FuzzPeer | null;
  /** How the attacker answers the victim's block requests, and the bytes it can serve. */
  answer: BlockAnswer;
  known: Map<string, Uint8Array>;
}

let atk: Attack;

before(async () => {
  const root = await makeTempDir('sec-attack');
  const canary = join(root, 'canary');
  const dirA = join(root, 'a');
  const dirB = join(root, 'b');
  for (const d of [canary, dirA, dirB, join(canary, 'sub')]) await mkdir(d);
  await writeFile(join(canary, 'sentinel'), 'untouched\n');
  await writeFile(join(canary, 'sub', 'data'), 'untouched too\n');
  const [port, portB] = [await freePort(), await freePort()];
  const a = await startDaemon({
    dir: dirA,
    port,
    secret: SECRET,
    nodeId: 'victim',
    name: 'victim',
    args: ['--listen', '127.0.0.1'],
  });
  const b = await startDaemon({
    dir: dirB,
    port: portB,
    secret: SECRET,
    nodeId: 'bystander',
    name: 'bystander',
    peers: [`127.0.0.1:${port}`],
    args: ['--listen', '127.0.0.1'],
  });
  await a.waitForLine(READY);
  await b.waitForLine(READY);
  await a.waitForLine(/peer connected peer=bystander/, SYNC_MS);
  atk = {
    root,
    canary,
    canaryBefore: await snapshotTree(canary, { ignore: [] }),
    dirA,
    dirB,
    a,
    b,
    port,
    ops: new OpFactory(),
    origin: 'mallory~abcdefgh',
    peer: null,
    answer: 'missing',
    known: new Map(),
  };
});

/** The attacking peer (it knows the secret), connected again if the daemon dropped it. */
async function attacker(): Promise<FuzzPeer> {
  if (atk.peer && !atk.peer.isClosed) return atk.peer;
  for (let attempt = 0; ; attempt++) {
    try {
      const p = await FuzzPeer.connect({
        host: '127.0.0.1',
        port: atk.port,
        secret: SECRET,
        nodeId: 'mallory',
        known: atk.known,
        answer: () => atk.answer,
      });
      await p.barrier();
      if (p.welcome) atk.ops.resync(p.welcome);
      atk.peer = p;
      return p;
    } catch (err) {
      if (attempt > 40) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Send operations in one batch; resolves to the close reason if the daemon dropped us, else null. */
async function sendOps(ops: Operation[]): Promise<string | null> {
  const p = await attacker();
  p.send({ ops: { ops: ops.map(encodeOp), caughtUp: false } });
  if (await p.barrier(15_000)) {
    for (const op of ops) atk.ops.accepted(op.origin, op.seq);
    return null;
  }
  const closed = await p.ws.waitClosed(5_000);
  return closed ? `${closed.code} ${closed.reason}` : 'no answer';
}

const next = (f: Parameters<OpFactory['next']>[1], offset = 0) => atk.ops.next(atk.origin, f, offset);

test('operations with unsafe paths are refused: the link drops, nothing is written', () =>
  dumpOnFailure(async () => {
    const T = ESCAPE_TOKEN;
    const data = Buffer.from('pwned\n');
    const attempts: [string, Operation][] = [
      ['../x', next(put(`../${T}-1`, data))],
      ['/etc/x', next(put(`/etc/${T}-2`, data))],
      ['absolute canary', next(put(`${atk.canary}/${T}-3`, data))],
      ['a/../../x', next(put(`a/../../${T}-4`, data))],
      ['NUL', next(put(`${T}\0-5`, data))],
      ['state folder', next(put(`.resonate/${T}-6`, data))],
      ['temp name', next(put(`.resonate-tmp-${T}-7`, data))],
      ['mkdir ..', next({ path: '..', kind: Kind.Mkdir })],
      ['rename to ../x', next(renameFile(`src-${T}`, `../${T}-8`, data))],
      ['rename to absolute', next(renameFile(`src-${T}`, `${atk.canary}/${T}-9`, data))],
      ['rename to a/../../x', next(renameFile(`src-${T}`, `a/../../${T}-10`, data))],
    ];
    const mark = atk.a.mark();
    for (const [what, op] of attempts) {
      const closed = await sendOps([op]);
      assert.ok(
        closed,
        `${what}: the daemon kept the link after ${JSON.stringify(op.path)} -> ${JSON.stringify(op.to)}`,
      );
      assert.match(closed, /invalid operation|unsafe|path/, what);
    }
    // The refusals are in the victim's log (rate limited: at least the first one).
    const refusals = atk.a
      .lines()
      .slice(-(atk.a.mark() - mark))
      .filter((l) => /invalid operation/.test(l.text));
    assert.ok(refusals.length >= 1, 'no refusal line in the log');
    assert.deepEqual(await canaryChanges(atk.canary, atk.canaryBefore), []);
    assert.deepEqual(await escapedEntries(atk.root, [atk.dirA, atk.dirB]), []);
  }));

test('a symlink pointing out of the folder is stored, never followed: writes through it stay inside', () =>
  dumpOnFailure(async () => {
    const data = Buffer.from('through the link\n');
    const n = `${ESCAPE_TOKEN}-link`;
    const ops: Operation[] = [
      { path: 'out', kind: Kind.Symlink, link: atk.canary },
      { path: 'rel', kind: Kind.Symlink, link: '../canary' },
      put(`out/${n}`, data),
      put('rel/sentinel', data),
      { path: `out/${n}-dir`, kind: Kind.Mkdir },
      { path: 'rel/sub/data', kind: Kind.Delete },
      renameFile(`moved-src-${n}`, `out/${n}-moved`, data),
      { path: `rel/${n}-link`, kind: Kind.Symlink, link: '/etc/passwd' },
      { path: 'out', kind: Kind.Chmod, content: contentOf(data), mode: 0o777 },
    ].map((f, i) => next(f as Parameters<OpFactory['next']>[1], i));
    assert.equal(await sendOps(ops), null, 'the daemon refused valid operations');
    // The race the confinement is for: while the victim writes a file into "swap" (its
    // temp file is open there, the content still on its way), "swap" is replaced on disk by
    // a link to the canary. The commit must not follow it.
    const slow = Buffer.alloc(200_000, 7);
    for (let off = 0; off < slow.length; off += 64 * 1024) {
      const part = slow.subarray(off, off + 64 * 1024);
      atk.known.set(sha256(part).toString('hex'), part);
    }
    atk.answer = 'silent';
    const p = await attacker();
    const asked = p.counts.blockRequest;
    const race = [
      next({ path: 'swap', kind: Kind.Mkdir }),
      next({ path: `swap/${n}-late`, kind: Kind.Put, content: contentOf(slow, 64 * 1024, false) }, 1),
    ];
    assert.equal(await sendOps(race), null);
    await waitFor(() => p.counts.blockRequest > asked, { timeoutMs: SYNC_MS, message: 'a block request' });
    await rename(join(atk.dirA, 'swap'), join(atk.dirA, 'swap-moved-away'));
    await symlink(atk.canary, join(atk.dirA, 'swap'));
    atk.answer = 'right';
    p.releaseSilent('right');
    // The victim and the bystander lay out what they accepted. A path with data below it
    // is a folder, so "out" becomes a real folder holding the file, and the link itself is
    // kept as a conflict copy beside it: stored as a link, never followed.
    for (const dir of [atk.dirA, atk.dirB]) {
      await waitFor(() => exists(join(dir, 'out', n)), { timeoutMs: SYNC_MS, message: `out/${n} in ${dir}` });
      const links = [...(await snapshotTree(dir)).values()].filter((e) => e.type === 'link');
      assert.ok(
        links.some((e) => e.link === atk.canary || e.link === '../canary'),
        `no stored link to the canary in ${dir}: ${JSON.stringify(links)}`,
      );
    }
    // The held-back file: committed into the folder it was opened in, or given up; never
    // into the canary.
    await waitFor(() => p.counts.blockRequest >= asked + 4, { timeoutMs: SYNC_MS }).catch(() => {});
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual(await canaryChanges(atk.canary, atk.canaryBefore), [], 'the canary folder changed');
    assert.deepEqual(await escapedEntries(atk.root, [atk.dirA, atk.dirB]), []);
    for (const dir of [atk.dirA, atk.dirB]) {
      const f = await folderProblems(dir);
      assert.deepEqual(f.refused, [], `refused names in ${dir}`);
    }
    assert.equal(await readFile(join(atk.canary, 'sentinel'), 'utf8'), 'untouched\n');
  }));

test('after all that the victim still serves a well-behaved peer, both ways', () =>
  dumpOnFailure(async () => {
    atk.peer?.close();
    assert.equal(atk.a.running, true, 'the victim died');
    assert.equal(atk.b.running, true, 'the bystander died');
    await writeFile(join(atk.dirB, 'fresh-from-b.txt'), 'b\n');
    await writeFile(join(atk.dirA, 'fresh-from-a.txt'), 'a\n');
    await waitForFile(atk.dirA, 'fresh-from-b.txt');
    await waitForFile(atk.dirB, 'fresh-from-a.txt');
  }));

// --- findings of the fuzz suite, fixed in e06439d: kept as regression tests ---------------------

/** A fresh victim/bystander pair and an attacking peer. */
async function pair(tag: string) {
  const root = await makeTempDir(`sec-${tag}`);
  const [dirA, dirB] = [join(root, 'a'), join(root, 'b')];
  for (const d of [dirA, dirB]) await mkdir(d);
  const [port, portB] = [await freePort(), await freePort()];
  const a = await startDaemon({
    dir: dirA,
    port,
    secret: SECRET,
    nodeId: 'victim',
    name: `${tag}-a`,
    args: ['--listen', '127.0.0.1'],
  });
  const b = await startDaemon({
    dir: dirB,
    port: portB,
    secret: SECRET,
    nodeId: 'bystander',
    name: `${tag}-b`,
    peers: [`127.0.0.1:${port}`],
    args: ['--listen', '127.0.0.1'],
  });
  await a.waitForLine(READY);
  await b.waitForLine(READY);
  await a.waitForLine(/peer connected peer=bystander/, SYNC_MS);
  const connectPeer = async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        const p = await FuzzPeer.connect({ host: '127.0.0.1', port, secret: SECRET, nodeId: 'mallory' });
        await p.barrier();
        return p;
      } catch (err) {
        if (attempt > 40) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  return { a, b, dirA, dirB, port, peer: await connectPeer(), connectPeer };
}

/** Whether the daemon drops the link over these operations. */
async function dropsLink(peer: FuzzPeer, ops: Operation[]): Promise<boolean> {
  peer.send({ ops: { ops: ops.map(encodeOp), caughtUp: false } });
  if (await peer.barrier(15_000)) return (await peer.ws.waitClosed(1_000)) !== null;
  return true;
}

test('clock exceptions: over the limit the link drops; at the limit the daemon stays quick', () =>
  dumpOnFailure(async () => {
    const { peer, dirA, dirB, connectPeer } = await pair('clock');
    const ops = new OpFactory();
    const origin = 'mallory~abcdefgh';
    const target = peer.hello.origin;
    const clockOf = (n: number, seq: number) => ({
      vv: { [origin]: seq, [target]: n + 10 },
      except: Array.from({ length: n }, (_, i) => ({ origin: target, seq: i + 1 })),
    });
    // Before e06439d 60,000 exceptions were accepted, and comparing with them was quadratic.
    const over = ops.at(origin, 1, { path: 'heavy', kind: Kind.Mkdir, clock: clockOf(60_000, 1) });
    assert.equal(await dropsLink(peer, [over]), true, '60,000 exceptions were accepted');
    const max = LIMITS.clockExceptions;
    const atLimit = [
      ops.at(origin, 1, { path: 'heavy', kind: Kind.Mkdir, clock: clockOf(max, 1) }),
      ops.at(origin, 2, { path: 'heavy', kind: Kind.Mkdir }),
      ops.at(origin, 3, { path: 'heavy', kind: Kind.Rmdir }),
    ];
    const t0 = Date.now();
    const p2 = await connectPeer();
    assert.equal(await dropsLink(p2, atLimit), false, `${max} exceptions (the limit) were refused`);
    await writeFile(join(dirB, 'after-heavy.txt'), 'x\n');
    await waitForFile(dirA, 'after-heavy.txt', 15_000);
    const ms = Date.now() - t0;
    assert.ok(ms < 5_000, `the victim needed ${ms} ms`);
  }));

test('block size: over the limit the link drops; a block of the largest size nobody has does not stop the node', () =>
  dumpOnFailure(async () => {
    const { peer, dirA, dirB, connectPeer } = await pair('block');
    const ops = new OpFactory();
    const origin = 'mallory~abcdefgh';
    const huge = (len: number, seq: number) =>
      ops.at(origin, seq, {
        path: `huge-${len}.bin`,
        kind: Kind.Put,
        content: contentFromBlocks([{ length: len, hash: Buffer.alloc(32, 1) }]),
      });
    // Before e06439d any uint32 length was accepted, and a block above 64 MiB waited forever.
    assert.equal(
      await dropsLink(peer, [huge(64 * 1024 * 1024 + 1, 1)]),
      true,
      'a 64 MiB + 1 block was accepted',
    );
    assert.equal(await dropsLink(await connectPeer(), [huge(LIMITS.blockBytes + 1, 1)]), true);
    const p3 = await connectPeer();
    assert.equal(
      await dropsLink(p3, [huge(LIMITS.blockBytes, 1)]),
      false,
      'a block of the largest size was refused',
    );
    p3.close();
    await writeFile(join(dirB, 'after-huge.txt'), 'x\n');
    await waitForFile(dirA, 'after-huge.txt', 15_000);
  }));

test('gossip from one peer cannot make up cluster members (size stays 2 + the peer itself)', () =>
  dumpOnFailure(async () => {
    const { peer, port } = await pair('gossip');
    const members = Array.from({ length: 20 }, (_, i) => ({
      nodeId: `ghost${i}`,
      origin: `ghost${i}~abcdefgh`,
      version: 1,
      logClock: { vv: {}, except: [] },
      refused: [],
      listen: '',
      updatedMs: Date.now(),
    }));
    peer.send({ gossip: { members } });
    await peer.barrier();
    const res = await fetch(`http://127.0.0.1:${port}/status`);
    const status = (await res.json()) as { cluster: { size: number } };
    assert.ok(
      status.cluster.size <= 3,
      `cluster size ${status.cluster.size} after gossip about 20 strangers`,
    );
  }));

// --- regression tests for findings 6-10 of SECURITY.md ----------------------------------------

test('a peer that never answers block requests does not stop the node writing other files', () =>
  dumpOnFailure(async () => {
    const { port, dirA, dirB, peer } = await pair('silent');
    peer.close();
    await peer.closed;
    // Answers nothing, stays connected: like a wedged or malicious peer.
    const silent = await FuzzPeer.connect({
      host: '127.0.0.1',
      port,
      secret: SECRET,
      nodeId: 'mallory',
      answer: () => 'silent',
    });
    const op = new OpFactory().at('mallory~abcdefgh', 1, {
      path: 'never.bin',
      kind: Kind.Put,
      content: contentOf(Buffer.alloc(3000, 9), 1024, false),
    });
    silent.send({ ops: { ops: [encodeOp(op)], caughtUp: false } });
    await waitFor(() => silent.counts.blockRequest > 0, { timeoutMs: 10_000, message: 'a block request' });
    await writeFile(join(dirB, 'meanwhile.txt'), 'x\n');
    try {
      await waitForFile(dirA, 'meanwhile.txt', 20_000);
    } finally {
      silent.destroy();
    }
  }));
