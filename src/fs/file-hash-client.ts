// Large files are hashed on a worker thread that reads them itself, through the descriptor
// the main thread opened (src/fs/file-hash-thread.ts). That thread reads and chunks; its own
// SHA-256 worker (src/fs/hash-worker.ts) hashes. So the two busy threads run on two cores
// with no third competing: the main thread stays free for the event loop, and the libuv
// pool is out of the picture. On the main thread a 2 GiB file took 2.9 s (the main thread
// chunked, waited on pool reads and hashed whenever the worker lagged); on the thread pair
// 1.8-2.3 s (bench/notes/chunking.md).
// One thread serves every file; it starts on first use and does not keep the process alive
// while idle.
import { Worker } from 'node:worker_threads';
import type { Block, Content } from '../proto/types.ts';
import { ChangedWhileReadingError } from './changed-error.ts';
import type { ChunkParams } from './chunker.ts';
import { HashWorkerError } from './hash-worker.ts';
import { FsError, type FsErrorCode } from './types.ts';

export interface FileJob {
  id: number;
  fd: number;
  path: string;
  size: number;
  params?: ChunkParams;
  inlineMax?: number;
}

/** A finished job: the Content, with block ends and hashes packed into two buffers. */
export interface FileResult {
  id: number;
  size: number;
  digest: Uint8Array;
  inlineData: Uint8Array;
  ends: Float64Array;
  hashes: Uint8Array;
}

export interface FileFailure {
  id: number;
  error: { code?: string; message: string };
}

const FS_CODES = new Set<string>([
  'ERR_TARGET_CHANGED',
  'ERR_PATH_UNSAFE',
  'ERR_NOT_FOUND',
  'ERR_EXISTS',
  'ERR_NOT_EMPTY',
  'ERR_NO_SPACE',
  'ERR_IO',
  'ERR_ACCESS',
]);

interface Pending {
  path: string;
  resolve(c: Content): void;
  reject(e: Error): void;
}

// The thread runs the same module graph as this one: compiled .js, or .ts through tsx, whose
// hooks a worker does not inherit from a programmatic register(), so it registers them itself.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();
`;

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function failAll(e: Error): void {
  worker = null;
  for (const p of pending.values()) p.reject(e);
  pending.clear();
}

function unpack(r: FileResult): Content {
  const blocks: Block[] = [];
  let offset = 0;
  r.ends.forEach((end, i) => {
    blocks.push({ offset, length: end - offset, hash: r.hashes.subarray(32 * i, 32 * i + 32) });
    offset = end;
  });
  return { size: r.size, digest: r.digest, blocks, inlineData: r.inlineData };
}

function failure(path: string, e: FileFailure['error']): Error {
  if (e.code === 'ERR_CHANGED_WHILE_READING') return new ChangedWhileReadingError(path);
  const detail = e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message;
  if (e.code !== undefined && FS_CODES.has(e.code)) return new FsError(e.code as FsErrorCode, path, detail);
  return new HashWorkerError(`${path}: ${detail}`);
}

function onReply(m: FileResult | FileFailure): void {
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  if (pending.size === 0) worker?.unref();
  if ('error' in m) p.reject(failure(p.path, m.error));
  else p.resolve(unpack(m));
}

function getWorker(): Worker {
  if (worker) return worker;
  const entry = new URL(`./file-hash-thread${ext}`, import.meta.url).href;
  const tsx = ext === '.ts' ? import.meta.resolve('tsx/esm/api') : undefined;
  const w = new Worker(BOOT, { eval: true, workerData: { entry, tsx } });
  w.on('message', onReply);
  w.on('error', (e) => failAll(new HashWorkerError(`file hash thread failed: ${e.message}`, { cause: e })));
  w.on('exit', (code) => {
    if (worker === w) failAll(new HashWorkerError(`file hash thread exited (${code})`));
  });
  worker = w;
  return w;
}

/**
 * Chunk and hash `size` bytes of the open descriptor `fd` on the file hash thread. The caller
 * keeps `fd` open until this settles (the thread reads it meanwhile).
 */
export function hashOnThread(
  fd: number,
  path: string,
  size: number,
  opts: { params?: ChunkParams; inlineMax?: number },
): Promise<Content> {
  const w = getWorker();
  const id = nextId++;
  const job: FileJob = { id, fd, path, size };
  if (opts.params) job.params = opts.params;
  if (opts.inlineMax !== undefined) job.inlineMax = opts.inlineMax;
  return new Promise<Content>((resolve, reject) => {
    if (pending.size === 0) w.ref();
    pending.set(id, { path, resolve, reject });
    w.postMessage(job);
  });
}
