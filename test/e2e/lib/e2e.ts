// Shared helpers for the end-to-end tests: real daemons started the documented way, the
// operation log read back with `resonate log --json`, and waits on folder contents.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, nodeArgs, REPO_ROOT, RESONATE_BIN } from '../../harness/cli.ts';
import { type CliResult, type Daemon, type DaemonOptions, startDaemon } from '../../harness/daemon.ts';
import { freePort } from '../../harness/ports.ts';
import { makeTempDir } from '../../harness/tmp.ts';
import { diffTrees, type SnapshotOptions, snapshotTree, type Tree } from '../../harness/tree.ts';
import { waitFor, waitForValue } from '../../harness/wait.ts';

/** Generous: CI runs the whole suite on two shared cores. */
export const SYNC_TIMEOUT = 60_000;

/** The daemon's line once the start-up scan is done. */
export const READY = /\sready entries=/;
export const CONNECTED = /\speer connected peer=/;

/** E2E_LOG_LEVEL=debug runs every daemon these helpers start at that level (for digging). */
export const LOG_LEVEL = process.env.E2E_LOG_LEVEL;

/** One line of `resonate log --json`. */
export interface LogRecord {
  time: string;
  node: string;
  origin: string;
  seq: number;
  kind: string;
  path: string;
  to?: string;
  entries?: number;
  size?: number;
  link?: string;
  mode?: string;
}

/**
 * `resonate log --dir D --json [--path P]`, parsed (the daemon must be stopped). Its
 * stdout goes to a file, as with `resonate log --json > ops.jsonl`: through a pipe the
 * output can come out truncated (see the pipe test in log.test.ts).
 */
export async function readLog(
  dir: string,
  opts: { path?: string; state?: string } = {},
): Promise<LogRecord[]> {
  const args = ['log', '--dir', dir, '--json'];
  if (opts.path !== undefined) args.push('--path', opts.path);
  if (opts.state !== undefined) args.push('--state', opts.state);
  const r = await runToFile(args);
  if (r.code !== 0) throw new Error(`resonate ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return parseLogLines(r.stdout);
}

export function parseLogLines(text: string): LogRecord[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogRecord);
}

let outFiles = 0;
let outDir: string | undefined;

/** Run one CLI command with stdout redirected to a file (as a shell `> file` does). */
export async function runToFile(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  outDir ??= await makeTempDir('resonate-cli-out');
  const file = join(outDir, `out-${process.pid}-${++outFiles}.txt`);
  const fh = await open(file, 'w');
  try {
    const child = spawn(process.execPath, nodeArgs(RESONATE_BIN, args), {
      cwd: REPO_ROOT,
      env: childEnv(),
      stdio: ['ignore', fh.fd, 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    return { code, stdout: await readFile(file, 'utf8'), stderr };
  } finally {
    await fh.close();
    await rm(file, { force: true });
  }
}

/** Operations per kind: { put: 3, delete: 1, ... }. */
export function kindCounts(ops: readonly LogRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ops) out[op.kind] = (out[op.kind] ?? 0) + 1;
  return out;
}

/** (origin, seq) pairs that occur more than once. */
export function duplicateDots(ops: readonly LogRecord[]): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const op of ops) {
    const k = `${op.origin}#${op.seq}`;
    if (seen.has(k)) dup.push(k);
    seen.add(k);
  }
  return dup;
}

export interface StatusJson {
  node: { id: string; origin: string; folder: string };
  members: { id: string | null; self: boolean; connected: boolean }[];
  counts: { files: number; bytes: number; conflicts: number; uncommitted: number; waiting: number };
  ops: { log: number; local: number; remote: number };
}

/**
 * The daemon's status JSON (what `resonate status --port P --json` prints), fetched from
 * GET /status directly: a CLI process per poll would cost a second of CPU each.
 */
export async function status(port: number): Promise<StatusJson> {
  const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`status on port ${port}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as StatusJson;
}

/** Start one daemon and wait until its start-up scan is done. */
export async function startNode(
  opts: Omit<DaemonOptions, 'port' | 'dir'> & { port?: number; dir?: string },
): Promise<Daemon & { dir: string; port: number }> {
  const dir = opts.dir ?? (await makeTempDir('resonate-e2e'));
  const port = opts.port ?? (await freePort());
  const level = opts.logLevel ?? LOG_LEVEL;
  const d = await startDaemon({ ...opts, ...(level ? { logLevel: level } : {}), dir, port });
  await d.waitForLine(READY, SYNC_TIMEOUT);
  return Object.assign(d, { dir, port });
}

export interface Pair {
  a: Daemon;
  b: Daemon;
  dirA: string;
  dirB: string;
  portA: number;
  portB: number;
}

/** Two daemons that dial each other directly; resolves once both are ready and linked. */
export async function startPair(
  opts: {
    logLevel?: string;
    nodeIds?: [string, string];
    dirA?: string;
    dirB?: string;
    /** Extra daemon arguments (both nodes). */
    args?: string[];
  } = {},
): Promise<Pair> {
  const [portA, portB] = [await freePort(), await freePort()];
  const dirA = opts.dirA ?? (await makeTempDir('resonate-a'));
  const dirB = opts.dirB ?? (await makeTempDir('resonate-b'));
  const level = opts.logLevel ?? LOG_LEVEL;
  const common = { ...(level ? { logLevel: level } : {}), args: opts.args ?? [] };
  const [a, b] = await Promise.all([
    startDaemon({
      ...common,
      dir: dirA,
      port: portA,
      peers: [`127.0.0.1:${portB}`],
      name: 'A',
      ...(opts.nodeIds ? { nodeId: opts.nodeIds[0] } : {}),
    }),
    startDaemon({
      ...common,
      dir: dirB,
      port: portB,
      peers: [`127.0.0.1:${portA}`],
      name: 'B',
      ...(opts.nodeIds ? { nodeId: opts.nodeIds[1] } : {}),
    }),
  ]);
  await Promise.all([a.waitForLine(READY, SYNC_TIMEOUT), b.waitForLine(READY, SYNC_TIMEOUT)]);
  await Promise.all([a.waitForLine(CONNECTED, SYNC_TIMEOUT), b.waitForLine(CONNECTED, SYNC_TIMEOUT)]);
  return { a, b, dirA, dirB, portA, portB };
}

/**
 * Snapshot options that keep only one subtree (and what is below it), so a test that
 * shares a pair of daemons with others compares only its own files.
 */
export function only(prefix: string): SnapshotOptions {
  const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return { ignore: ['.resonate', new RegExp(`^(?!${esc}(/|$))`)] };
}

/** Wait until every folder shows the same tree as the first; returns it. */
export async function waitTreesEqual(
  dirs: readonly string[],
  opts: SnapshotOptions & { timeoutMs?: number; message?: string; modeMask?: number } = {},
): Promise<Tree> {
  let diffs: string[] = [];
  return waitForValue(
    async () => {
      const trees = await Promise.all(dirs.map((d) => snapshotTree(d, opts)));
      diffs = trees.slice(1).flatMap((t, k) =>
        diffTrees(trees[0]!, t, {
          names: ['dir0', `dir${k + 1}`],
          ...(opts.modeMask !== undefined ? { modeMask: opts.modeMask } : {}),
        }),
      );
      return diffs.length === 0 ? trees[0] : undefined;
    },
    {
      timeoutMs: opts.timeoutMs ?? SYNC_TIMEOUT,
      intervalMs: 100,
      message: opts.message ?? `${dirs.length} folders to converge`,
      describe: () => `${diffs.length} differences:\n${diffs.slice(0, 40).join('\n')}`,
    },
  );
}

/** Wait until dir/rel holds exactly this content. */
export async function waitForContent(
  dir: string,
  rel: string,
  content: string | Uint8Array,
  timeoutMs = SYNC_TIMEOUT,
): Promise<void> {
  const want = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  let seen: string = 'missing';
  await waitFor(
    async () => {
      const got = await readFile(join(dir, rel)).catch(() => null);
      seen =
        got === null ? 'missing' : `${got.length} bytes: ${JSON.stringify(got.subarray(0, 40).toString())}`;
      return got === null ? false : got.equals(want);
    },
    {
      timeoutMs,
      intervalMs: 25,
      message: `${rel} in ${dir} to hold ${want.length} bytes`,
      describe: () => seen,
    },
  );
}

/** The same wait against a tree snapshot predicate (for several paths at once). */
export async function waitForTree(
  dir: string,
  check: (t: Tree) => boolean,
  message: string,
  timeoutMs = SYNC_TIMEOUT,
  opts: SnapshotOptions = {},
): Promise<Tree> {
  let last: Tree = new Map();
  return waitForValue(
    async () => {
      last = await snapshotTree(dir, opts);
      return check(last) ? last : undefined;
    },
    {
      timeoutMs,
      intervalMs: 100,
      message,
      describe: () => [...last.entries()].slice(0, 60).map(([p, e]) => `${p} ${e.type} ${e.size}`),
    },
  );
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Conflict copies of rel (NAME.conflict-<node>-<yyyymmdd-hhmmss>.EXT) in a snapshot. */
export function conflictCopies(tree: Tree, rel: string, node?: string): string[] {
  const slash = rel.lastIndexOf('/');
  const dir = slash < 0 ? '' : rel.slice(0, slash + 1);
  const base = rel.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot) : '';
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(
    `^${esc(dir)}${esc(stem)}\\.conflict-${node ? esc(node) : '[A-Za-z0-9_.-]+'}-\\d{8}-\\d{6}(-\\d+)?${esc(ext)}$`,
  );
  return [...tree.keys()].filter((p) => re.test(p));
}

/** Entry script that runs bin/resonate.js with E2E_CWD / E2E_ARGV (see cwd-entry.mjs). */
export const CWD_ENTRY = fileURLToPath(new URL('./cwd-entry.mjs', import.meta.url));
