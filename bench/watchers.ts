// Watcher backends compared: `node --import tsx bench/watchers.ts [--files N] [--dirs D]
// [--small N] [--small-dirs D] [--backends chokidar,native,chokidar-raw]` (0 skips a size).
// Builds a temp tree (default 100,000 files in 1,100 folders, plus 1,000 files in 11), then
// runs each backend in a fresh child process so RSS is its own: ready time, RSS, inotify
// watches, write→event latency, and files missed in new or replaced folders.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { watch as chokidarWatch } from 'chokidar';
import { isOwnName } from '../src/fs/paths.ts';
import { createWatcher } from '../src/fs/watcher/index.ts';
import type { Watcher, WatchOptions } from '../src/fs/watcher/types.ts';

/** chokidar-raw: chokidar with our options but none of our fixes, to measure the library itself. */
type Backend = 'chokidar' | 'native' | 'chokidar-raw';
const SAMPLES = 30;
const RACE_ROUNDS = 50;
const EVENT_DEADLINE_MS = 1000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

/** Folder i of the layout: ~10 subfolders under each top folder ("t3", "t3/s7"). */
function dirName(i: number): string {
  const top = Math.floor(i / 11);
  const sub = i % 11;
  return sub === 0 ? `t${top}` : `t${top}/s${sub}`;
}

const fileName = (i: number, dirs: number): string => `${dirName(i % dirs)}/f${i}`;

function buildTree(root: string, files: number, dirs: number): void {
  for (let d = 0; d < dirs; d++) mkdirSync(join(root, dirName(d)), { recursive: true });
  for (let f = 0; f < files; f++) writeFileSync(join(root, fileName(f, dirs)), 'x');
}

function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
        if (line.startsWith('inotify wd:')) n++;
      }
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
const ms = (x: number): number => Math.round(x * 1000) / 1000;

function stats(xs: number[]): { p50: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { p50: ms(at(0.5)), p95: ms(at(0.95)), max: ms(s.at(-1) ?? Number.NaN) };
}

interface ChildResult {
  backend: Backend;
  files: number;
  readyMs: number;
  baseRssMiB: number;
  rssMiB: number;
  rssAfterGcMiB: number;
  watches: number;
  change: { p50: number; p95: number; max: number; missed: number };
  add: { p50: number; p95: number; max: number; missed: number };
  newFolderMissed: number;
  replacedFolderMissed: number;
  errors: string[];
}

function rawChokidar(opts: WatchOptions): Watcher {
  const fsw = chokidarWatch(opts.root, { ignoreInitial: true, atomic: false, followSymlinks: false });
  fsw.on('all', (_event, abs) => opts.onEvents([{ path: abs.slice(opts.root.length + 1), kind: 'unknown' }]));
  const ready = new Promise<void>((resolve) => fsw.once('ready', resolve));
  return { backend: 'chokidar-raw', ready: () => ready, close: () => fsw.close() };
}

async function child(backend: Backend, root: string, files: number, dirs: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const baseRss = process.memoryUsage().rss;
  const waiting = new Map<string, () => void>();
  const errors: string[] = [];
  const t0 = performance.now();
  const opts: WatchOptions = {
    root,
    ignored: (p) => isOwnName(p),
    onEvents: (evs) => {
      for (const e of evs) waiting.get(e.path)?.();
    },
    onError: (err) => errors.push(err.message),
  };
  const w = backend === 'chokidar-raw' ? rawChokidar(opts) : createWatcher(backend, opts);
  await w.ready();
  const readyMs = performance.now() - t0;
  const rss = process.memoryUsage().rss;
  gc();
  const rssAfterGc = process.memoryUsage().rss;
  const watches = inotifyWatches();

  /** Run `act`, then time until an event for `path` arrives (null if it never does). */
  const timeEvent = async (path: string, act: () => void, settle = true): Promise<number | null> => {
    let took = 0;
    let start = 0;
    const seen = new Promise<boolean>((resolve) => {
      waiting.set(path, () => {
        took = performance.now() - start;
        resolve(true);
      });
      setTimeout(() => resolve(false), EVENT_DEADLINE_MS).unref();
    });
    act();
    start = performance.now();
    const ok = await seen;
    waiting.delete(path);
    if (settle) await new Promise((r) => setTimeout(r, 10)); // let trailing events of this write pass
    return ok ? took : null;
  };
  const sample = async (paths: string[]): Promise<ChildResult['change']> => {
    const times: number[] = [];
    for (const p of paths) {
      const t = await timeEvent(p, () => writeFileSync(join(root, p), `${Date.now()}`));
      if (t !== null) times.push(t);
    }
    return { ...stats(times), missed: paths.length - times.length };
  };

  const pick = Array.from({ length: SAMPLES }, (_, i) => fileName((i * 7919) % files, dirs));
  const change = await sample(pick);
  const added = Array.from({ length: SAMPLES }, (_, i) => `${dirName(i % dirs)}/new-${i}`);
  const add = await sample(added);

  // Files written into a folder just after its addDir event (when chokidar is between its
  // scan and its watch), and into a folder replaced by a new one of the same name: every
  // file must be reported.
  let newFolderMissed = 0;
  let replacedFolderMissed = 0;
  mkdirSync(join(root, 'rep'));
  const write = (p: string) => () => writeFileSync(join(root, p), 'x');
  for (let i = 0; i < RACE_ROUNDS; i++) {
    await timeEvent(`race${i}/a`, () => mkdirSync(join(root, `race${i}/a`), { recursive: true }), false);
    const late = [
      timeEvent(`race${i}/a/f0`, write(`race${i}/a/f0`), false),
      new Promise<number | null>((r) =>
        setImmediate(() => void timeEvent(`race${i}/a/f1`, write(`race${i}/a/f1`)).then(r)),
      ),
    ];
    for (const t of await Promise.all(late)) if (t === null) newFolderMissed++;
    const b = await timeEvent(`rep/g${i}`, () => {
      rmSync(join(root, 'rep'), { recursive: true });
      mkdirSync(join(root, 'rep'));
      writeFileSync(join(root, `rep/g${i}`), 'x');
    });
    // The replaced folder must be watched afresh: a later write in it must be seen too.
    const c = await timeEvent(`rep/f${i}`, write(`rep/f${i}`));
    if (b === null || c === null) replacedFolderMissed++;
  }
  await w.close();
  // Leave the tree as built for the next backend.
  for (const p of added) rmSync(join(root, p));
  for (let i = 0; i < RACE_ROUNDS; i++) rmSync(join(root, `race${i}`), { recursive: true });
  rmSync(join(root, 'rep'), { recursive: true });
  const result: ChildResult = {
    backend,
    files,
    readyMs: Math.round(readyMs),
    baseRssMiB: mib(baseRss),
    rssMiB: mib(rss),
    rssAfterGcMiB: mib(rssAfterGc),
    watches,
    change,
    add,
    newFolderMissed,
    replacedFolderMissed,
    errors: errors.slice(0, 3),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(backend: Backend, root: string, files: number, dirs: number): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      self,
      '--child',
      backend,
      '--root',
      root,
      '--files',
      `${files}`,
      '--dirs',
      `${dirs}`,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 600_000 },
  );
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${backend} child failed: ${r.stderr}`);
  return JSON.parse(line) as ChildResult;
}

function row(r: ChildResult): string {
  const l = (x: ChildResult['change']): string =>
    `${x.p50} / ${x.p95} / ${x.max}${x.missed ? ` (${x.missed} missed)` : ''}`;
  return (
    `| ${r.files.toLocaleString('en')} | ${r.backend} | ${r.readyMs} | ${r.rssMiB} (${r.rssAfterGcMiB} after gc; ` +
    `${r.baseRssMiB} before) | ${r.watches.toLocaleString('en')} | ${l(r.change)} | ${l(r.add)} | ` +
    `${r.newFolderMissed}/${2 * RACE_ROUNDS} | ${r.replacedFolderMissed}/${RACE_ROUNDS} |`
  );
}

async function main(): Promise<void> {
  const files = Number(arg('files', '100000'));
  const dirs = Number(arg('dirs', '1100'));
  if (process.argv.includes('--child')) {
    await child(arg('child', 'native') as Backend, arg('root', ''), files, dirs);
    return;
  }
  const small = Number(arg('small', '1000'));
  const backends = arg('backends', 'chokidar,native').split(',') as Backend[];
  const sizes: Array<[number, number]> = [];
  if (small > 0) sizes.push([small, Number(arg('small-dirs', '11'))]);
  if (files > 0) sizes.push([files, dirs]);
  const rows: string[] = [];
  for (const [n, d] of sizes) {
    const root = await mkdtemp(join(tmpdir(), 'resonate-bench-watch-'));
    try {
      const t = performance.now();
      buildTree(root, n, d);
      console.error(`built ${n} files in ${d} folders in ${Math.round(performance.now() - t)} ms`);
      for (const b of backends) {
        const r = runChild(b, root, n, d);
        if (r.errors.length > 0) console.error(`${b}: ${r.errors.join('; ')}`);
        rows.push(row(r));
        console.error(rows.at(-1));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  console.log(
    '| files | backend | ready ms | RSS MiB | inotify watches | change ms p50 / p95 / max | add ms p50 / p95 / max | new-folder files missed | replaced-folder missed |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
