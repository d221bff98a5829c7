// Issue 2's check, on one real daemon: every user change becomes exactly one operation in
// the log — while the daemon runs (the watcher) and while it is stopped (the start-up
// scan) — and `resonate log` shows them all, per path too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { childEnv, nodeArgs, REPO_ROOT, RESONATE_BIN } from '../harness/cli.ts';
import { type Daemon, dumpOnFailure } from '../harness/daemon.ts';
import { waitFor } from '../harness/wait.ts';
import {
  duplicateDots,
  kindCounts,
  type LogRecord,
  parseLogLines,
  readLog,
  runToFile,
  startNode,
  status,
} from './lib/e2e.ts';

after(cleanupHarness);

const NODE = 'solo';

// The folder: 10 top folders d0..d9 with two subfolders each; file i lives in
// d(i%10)/s(floor(i/10)%2)/f<i>.txt. d9 (20 files) is the directory that gets renamed;
// the other changes use files outside it.
const fileOf = (i: number) => `d${i % 10}/s${Math.floor(i / 10) % 2}/f${i}.txt`;
const outside = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 10 !== 9);
const MODIFY = outside.slice(0, 50);
const DELETE = outside.slice(50, 70);
const RENAME = outside.slice(70, 80);
/** Half the renames stay in their folder, half move to another one. */
const renamedTo = (i: number, k: number) =>
  k % 2 === 0 ? fileOf(i).replace(/f(\d+)\.txt$/, 'renamed-$1.txt') : `d${(i + 1) % 9}/s0/moved-${i}.txt`;

let d: Daemon & { dir: string; port: number };

/**
 * Wait until the daemon has recorded `delta` more operations and stays quiet, or until it
 * has been quiet for a while without getting there (a lost change: the final comparison
 * of the log names it). Returns the count reached.
 */
async function settle(from: number, delta: number): Promise<number> {
  let last = -1;
  let quietSince = Date.now();
  await waitFor(
    async () => {
      const now = (await status(d.port)).ops.log;
      if (now !== last) quietSince = Date.now();
      last = now;
      const quiet = Date.now() - quietSince;
      return (now >= from + delta && quiet >= 1000) || quiet >= 5000;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: `${delta} more operations`,
      describe: () => `log at ${last}`,
    },
  );
  return last;
}

/** path -> kinds of the operations that name it as their path, in log order. */
function byPath(ops: readonly LogRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const op of ops) out.set(op.path, [...(out.get(op.path) ?? []), op.kind]);
  return out;
}

/** The log after the live changes (read once the daemon stopped). */
let liveOps: LogRecord[] = [];

/**
 * The user's changes, made on a running daemon: 30 folders, 200 files, 50 modified, 20
 * deleted, 10 renamed, one folder renamed. Returns the log, read once the daemon stopped,
 * after checking it holds exactly one operation per change.
 */
async function liveChanges(
  node: Daemon & { dir: string; port: number },
  nodeId: string,
): Promise<LogRecord[]> {
  d = node;
  const dir = d.dir;
  try {
    for (let t = 0; t < 10; t++)
      for (const s of [0, 1]) await mkdir(join(dir, `d${t}/s${s}`), { recursive: true });
    for (let i = 0; i < 200; i++) await writeFile(join(dir, fileOf(i)), `file ${i}\n`);
    let n = await settle(0, 30 + 200);
    for (const i of MODIFY) await writeFile(join(dir, fileOf(i)), `file ${i}, modified\n`);
    n = await settle(n, 50);
    for (const i of DELETE) await rm(join(dir, fileOf(i)));
    n = await settle(n, 20);
    for (const [k, i] of RENAME.entries()) await rename(join(dir, fileOf(i)), join(dir, renamedTo(i, k)));
    n = await settle(n, 10);
    await rename(join(dir, 'd9'), join(dir, 'd9-moved'));
    await settle(n, 1);
  } finally {
    // The next tests go on from whatever state this one left.
    assert.equal(await d.stop(), 0);
  }
  const ops = await readLog(dir);
  assert.deepEqual(duplicateDots(ops), [], 'every (origin, seq) once');
  assert.ok(
    ops.every((o) => o.node === nodeId),
    'every operation is this node’s',
  );
  // Every user change, as "kind path[ -> to]", against the log.
  const expected: string[] = [];
  for (let t = 0; t < 10; t++) expected.push(`mkdir d${t}`, `mkdir d${t}/s0`, `mkdir d${t}/s1`);
  for (let i = 0; i < 200; i++) expected.push(`put ${fileOf(i)}`);
  for (const i of MODIFY) expected.push(`put ${fileOf(i)}`);
  for (const i of DELETE) expected.push(`delete ${fileOf(i)}`);
  for (const [k, i] of RENAME.entries()) expected.push(`rename ${fileOf(i)} -> ${renamedTo(i, k)}`);
  expected.push('rename d9 -> d9-moved');
  const missing = [...expected];
  const extra: string[] = [];
  for (const o of ops) {
    const line = `${o.kind} ${o.path}${o.to ? ` -> ${o.to}` : ''}`;
    const k = missing.indexOf(line);
    if (k >= 0) missing.splice(k, 1);
    else extra.push(line);
  }
  assert.deepEqual(
    { missing, extra },
    { missing: [], extra: [] },
    'the log holds exactly the user’s changes',
  );
  assert.deepEqual(kindCounts(ops), { mkdir: 30, put: 250, delete: 20, rename: 11 });
  assert.deepEqual(
    ops.map((o) => o.seq).sort((x, y) => x - y),
    Array.from({ length: 311 }, (_, k) => k + 1),
    'sequence numbers 1..311, no gaps',
  );
  return ops;
}

test('live changes with chokidar (--watcher chokidar): exactly one operation per user change', () =>
  dumpOnFailure(async () => {
    const id = 'solo-chokidar';
    await liveChanges(await startNode({ nodeId: id, args: ['--watcher', 'chokidar'] }), id);
  }));

test('live changes: exactly one operation per user change, nothing twice', () =>
  dumpOnFailure(async () => {
    liveOps = await liveChanges(await startNode({ nodeId: NODE }), NODE);
  }));

test('live changes: files keep one history each; renames are renames, not delete + create', () => {
  const paths = byPath(liveOps);
  for (let i = 0; i < 200; i++) {
    const want = MODIFY.includes(i)
      ? ['put', 'put']
      : DELETE.includes(i)
        ? ['put', 'delete']
        : RENAME.includes(i)
          ? ['put', 'rename']
          : ['put'];
    assert.deepEqual(paths.get(fileOf(i)), want, fileOf(i));
  }
  for (const [k, i] of RENAME.entries()) {
    const op = liveOps.find((o) => o.kind === 'rename' && o.path === fileOf(i));
    assert.equal(op?.to, renamedTo(i, k));
    assert.equal(op?.entries, 1);
    assert.equal(paths.get(renamedTo(i, k)), undefined, 'no put at the new name');
  }
  assert.deepEqual(duplicateDots(liveOps), []);
});

test('live changes: renaming a folder with files in it is one operation with its entries', () => {
  // d9, its 2 subfolders and its 20 files.
  const dirOps = liveOps.filter(
    (o) =>
      o.path === 'd9-moved' || o.path.startsWith('d9-moved/') || (o.kind === 'rename' && o.path === 'd9'),
  );
  assert.deepEqual(
    dirOps.map((o) => [o.kind, o.path, o.to, o.entries]),
    [['rename', 'd9', 'd9-moved', 23]],
  );
  const after = liveOps.slice(liveOps.findIndex((o) => o.kind === 'rename' && o.path === 'd9'));
  assert.equal(after.length, 1, 'nothing recorded after the folder rename');
});

test('`resonate log --path` shows one file’s history', () =>
  dumpOnFailure(async () => {
    const dir = d.dir;
    const one = fileOf(MODIFY[0]!);
    const hist = await readLog(dir, { path: one });
    assert.deepEqual(
      hist.map((o) => [o.node, o.kind, o.path, o.size]),
      [
        [NODE, 'put', one, `file ${MODIFY[0]}\n`.length],
        [NODE, 'put', one, `file ${MODIFY[0]}, modified\n`.length],
      ],
    );
    const text = await runToFile(['log', '--dir', dir, '--path', one]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 2, text.stdout);
    for (const l of lines) assert.match(l, new RegExp(`${NODE}\\s+\\d+\\s+put\\s+${one}`));
    const renamed = await readLog(dir, { path: fileOf(RENAME[0]!) });
    assert.deepEqual(
      renamed.map((o) => [o.kind, o.to]),
      [
        ['put', undefined],
        ['rename', renamedTo(RENAME[0]!, 0)],
      ],
    );
  }));

test('changes made while the daemon is stopped are all found at the next start', () =>
  dumpOnFailure(async () => {
    const dir = d.dir;
    const before = await readLog(dir);
    const last = Math.max(...before.map((o) => o.seq));
    // New: a nested folder with 20 files.
    await mkdir(join(dir, 'offline/new'), { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(join(dir, `offline/new/n${i}.txt`), `new ${i}\n`);
    // From files no live change touched and outside d8 (the folder renamed below).
    const pool = outside.slice(80).filter((i) => i % 10 !== 8);
    // Modified: 10 files (other sizes, so not even the stat could match).
    const mod = pool.slice(0, 10);
    for (const i of mod) await writeFile(join(dir, fileOf(i)), `file ${i}, changed offline\n`);
    // Deleted: 5. Renamed: 5 files and one folder with files in it.
    const del = pool.slice(10, 15);
    for (const i of del) await rm(join(dir, fileOf(i)));
    const ren = pool.slice(15, 20);
    for (const i of ren) await rename(join(dir, fileOf(i)), join(dir, `d0/offline-${i}.txt`));
    await rename(join(dir, 'd8'), join(dir, 'd8-offline'));

    const mark = d.mark();
    await d.restart();
    const ready = await d.waitForLine(/\sready entries=(\d+) recorded=(\d+)/, 60_000, { since: mark });
    assert.equal(await d.stop(), 0);
    const ops = await readLog(dir);
    const fresh = ops.filter((o) => o.seq > last);
    assert.equal(Number(ready[2]), fresh.length, 'the ready line counts the recorded operations');
    assert.deepEqual(kindCounts(fresh), { mkdir: 2, put: 30, delete: 5, rename: 6 });
    assert.deepEqual(duplicateDots(ops), []);
    const paths = byPath(fresh);
    for (const i of mod) assert.deepEqual(paths.get(fileOf(i)), ['put'], fileOf(i));
    for (const i of del) assert.deepEqual(paths.get(fileOf(i)), ['delete'], fileOf(i));
    for (const i of ren) {
      const op = fresh.find((o) => o.kind === 'rename' && o.path === fileOf(i));
      assert.equal(op?.to, `d0/offline-${i}.txt`, `rename of ${fileOf(i)}`);
    }
    const dirRename = fresh.find((o) => o.kind === 'rename' && o.path === 'd8');
    assert.equal(dirRename?.to, 'd8-offline');
    // d8 held 2 subfolders and 20 files, minus the ones changed above.
    assert.ok(
      (dirRename?.entries ?? 0) > 3,
      `the folder rename carries its contents (${dirRename?.entries})`,
    );
    assert.equal(
      fresh.filter((o) => o.path.startsWith('d8/') || o.path.startsWith('d8-offline')).length,
      0,
      'nothing else for the renamed folder’s contents',
    );
  }));

test('a restart with no changes adds no operation', () =>
  dumpOnFailure(async () => {
    const before = await readLog(d.dir);
    const mark = d.mark();
    await d.restart();
    const ready = await d.waitForLine(/\sready entries=(\d+) recorded=(\d+)/, 60_000, { since: mark });
    assert.equal(ready[2], '0', ready[0]);
    assert.equal((await status(d.port)).ops.log, before.length);
    assert.equal(await d.stop(), 0);
    const after = await readLog(d.dir);
    assert.equal(after.length, before.length);
    // Every file is unchanged on disk, too.
    assert.equal(await readFile(join(d.dir, fileOf(MODIFY[0]!)), 'utf8'), `file ${MODIFY[0]}, modified\n`);
  }));

test('`resonate log --json` through a pipe prints every operation, even to a slow reader', () =>
  dumpOnFailure(async () => {
    // Well over a pipe's 64 KiB of output: 600 more files, found by a start-up scan.
    await mkdir(join(d.dir, 'bulk'));
    for (let i = 0; i < 600; i++) await writeFile(join(d.dir, `bulk/b${i}`), `${i}`);
    const mark = d.mark();
    await d.restart();
    await d.waitForLine(/\sready entries=/, 60_000, { since: mark });
    assert.equal(await d.stop(), 0);
    const want = (await readLog(d.dir)).length;
    assert.ok(want > 900, `${want} operations`);
    // A slow consumer (a pager, a slow network): it takes one chunk, then pauses. The
    // command must wait for it rather than exit with output still queued.
    const child = spawn(process.execPath, nodeArgs(RESONATE_BIN, ['log', '--dir', d.dir, '--json']), {
      cwd: REPO_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 200);
    });
    assert.equal(await closed, 0);
    assert.equal(parseLogLines(out).length, want);
  }));
