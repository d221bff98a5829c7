// Small files read and hashed in batches on a worker thread (Linux, pinned folders only).
// A start-up scan of 100,000 small files spent ~5 s of its main thread on each file's pin
// check, open, fstat, read, fstat, close and SHA-256: ~50 µs of syscalls and hashing that
// the other core can do while the main thread records the batch before.
//
// The worker confines exactly as DiskFs does (disk-confine.ts): each folder is opened
// O_PATH|O_NOFOLLOW and used only if the kernel says it is <real root>/<dir>
// (readlink /proc/self/fd/N), re-asked before every file; files are opened through that
// handle with O_NOFOLLOW|O_NONBLOCK. The worker holds its own handles (a number the main
// thread closed could name anything by the time the worker used it) and closes them at the
// end of each batch. Anything unusual (not a regular file, too large, changed while read,
// any error) is not reported but left to the caller's ordinary path, which has the rules
// and the error messages: the worker only ever answers for the plain case.
import { Worker } from 'node:worker_threads';
import type { SmallFile } from './types.ts';

/** Fields per file in a reply's meta array: ok, size, mtimeMs, ctimeMs, ino, mode. */
const META = 6;

// Plain JS evaluated in the worker (as in hash-worker.ts: worker threads do not inherit
// the tsx hooks a development run uses).
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const C = fs.constants;
const DIR_FLAGS = 0o10000000 | C.O_DIRECTORY | C.O_NOFOLLOW;
const FILE_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK;
const sha256 = (b) => crypto.hash ? crypto.hash('sha256', b, 'buffer') : crypto.createHash('sha256').update(b).digest();
const where = (fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return null; } };
parentPort.on('message', (m) => {
  const pins = new Map();
  const pin = (abs) => {
    const had = pins.get(abs);
    if (had !== undefined) {
      if (where(had) === abs) return had;
      pins.delete(abs);
      fs.closeSync(had);
    }
    let fd;
    try { fd = fs.openSync(abs, DIR_FLAGS); } catch { return -1; }
    if (where(fd) !== abs) { fs.closeSync(fd); return -1; }
    pins.set(abs, fd);
    return fd;
  };
  const n = m.names.length;
  // One allocation per batch for each result: small mallocs by the thousand on this
  // thread, freed later by the main thread's GC, grew its malloc arena by ~20 MiB.
  const meta = new Float64Array(n * ${META});
  const hashes = new Uint8Array(n * 64);
  const data = new Uint8Array(m.inlineBytes);
  let at = 0;
  const buf = Buffer.allocUnsafeSlow(m.max + 1);
  for (let i = 0; i < n; i++) {
    const dir = pin(m.dirs[i]);
    if (dir < 0) continue;
    let fd;
    try { fd = fs.openSync('/proc/self/fd/' + dir + '/' + m.names[i], FILE_FLAGS); } catch { continue; }
    try {
      const a = fs.fstatSync(fd);
      if (!a.isFile() || a.size > m.max) continue;
      const inline = a.size <= m.inlineMax;
      if (inline && at + a.size > data.length) continue;
      if (fs.readSync(fd, buf, 0, a.size + 1, 0) !== a.size) continue;
      const b = fs.fstatSync(fd);
      if (b.size !== a.size || b.mtimeMs !== a.mtimeMs || b.ctimeMs !== a.ctimeMs) continue;
      const bytes = buf.subarray(0, a.size);
      if (a.size > 0) {
        const h = sha256(bytes);
        hashes.set(h, 64 * i);
        hashes.set(sha256(h), 64 * i + 32);
      } else hashes.set(sha256(bytes), 64 * i + 32);
      if (inline) {
        data.set(bytes, at);
        at += a.size;
      }
      meta.set([1, a.size, a.mtimeMs, a.ctimeMs, a.ino, a.mode & 0o7777], ${META} * i);
    } catch {
      continue;
    } finally {
      fs.closeSync(fd);
    }
  }
  for (const fd of pins.values()) fs.closeSync(fd);
  parentPort.postMessage({ id: m.id, meta, hashes, data }, [meta.buffer, hashes.buffer, data.buffer]);
});
`;

interface Reply {
  id: number;
  meta: Float64Array;
  hashes: Uint8Array;
  data: Uint8Array;
}

export class SmallFilesError extends Error {
  readonly code = 'ERR_SMALL_FILES_WORKER';
}

/** Idle this long, the worker ends: only start-up scans use it, and an isolate is ~10 MiB. */
const IDLE_MS = 1000;

interface Reader {
  worker: Worker;
  waiting: Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>;
  idle: NodeJS.Timeout | null;
}

/**
 * Batches are split between this many workers. Each reads one file at a time with blocking
 * calls (cheapest when the files are cached); from a cold cache each read waits on the disk
 * (~0.2 ms here), and three workers keep three reads in flight: a 100,000-file first scan
 * after dropping the caches took 21 s instead of 28-29 s (two: 23-26 s), the same 18-20 s
 * warm, for ~10 MiB more peak per worker while a scan runs. (Reads through the thread pool,
 * eight at a time, cost ~12 CPU-s more and delayed the store's writes on the same pool.)
 */
const READERS = 3;
/** A part smaller than this is not worth a second worker. */
const PART_MIN = 64;

const readers: (Reader | null)[] = new Array(READERS).fill(null);
let nextId = 1;

function getReader(k: number): Reader {
  const had = readers[k];
  if (had) return had;
  // A small young generation: this thread allocates little but the Stats and hashes of each
  // file, and at V8's default its semi-spaces grew to 16 MiB.
  const worker = new Worker(SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  const r: Reader = { worker, waiting: new Map(), idle: null };
  const fail = (e: Error) => {
    if (readers[k] === r) readers[k] = null;
    for (const p of r.waiting.values()) p.reject(e);
    r.waiting.clear();
  };
  worker.on('message', (m: Reply) => {
    const p = r.waiting.get(m.id);
    r.waiting.delete(m.id);
    if (r.waiting.size === 0) {
      worker.unref();
      r.idle = setTimeout(() => {
        if (readers[k] === r) readers[k] = null;
        void worker.terminate();
      }, IDLE_MS).unref();
    }
    p?.resolve(m);
  });
  worker.on('error', (e) =>
    fail(new SmallFilesError(`small-file worker failed: ${e.message}`, { cause: e })),
  );
  worker.on('exit', (code) => fail(new SmallFilesError(`small-file worker exited (${code})`)));
  readers[k] = r;
  return r;
}

function ask(k: number, dirs: string[], names: string[], max: number, inlineMax: number): Promise<Reply> {
  const r = getReader(k);
  if (r.idle) clearTimeout(r.idle);
  r.idle = null;
  const id = nextId++;
  const reply = new Promise<Reply>((resolve, reject) => r.waiting.set(id, { resolve, reject }));
  if (r.waiting.size === 1) r.worker.ref();
  r.worker.postMessage({ id, dirs, names, max, inlineMax, inlineBytes: names.length * inlineMax });
  return reply;
}

/**
 * Read and hash files of at most `max` bytes, each named by its folder's absolute real path
 * and its own name. An entry is null where the worker did not answer for it (see above).
 */
export async function readSmallFiles(
  dirs: string[],
  names: string[],
  max: number,
  inlineMax: number,
): Promise<(SmallFile | null)[]> {
  if (names.length === 0) return [];
  const parts = Math.max(1, Math.min(READERS, Math.floor(names.length / PART_MIN)));
  const size = Math.ceil(names.length / parts);
  const replies = await Promise.all(
    Array.from({ length: parts }, (_, k) =>
      ask(k, dirs.slice(k * size, (k + 1) * size), names.slice(k * size, (k + 1) * size), max, inlineMax),
    ),
  );
  const out: (SmallFile | null)[] = [];
  for (const reply of replies) decode(reply, inlineMax, out);
  return out;
}

/** A worker's reply, one entry per name it was sent, appended to `out`. */
function decode({ meta, hashes, data }: Reply, inlineMax: number, out: (SmallFile | null)[]): void {
  let at = 0;
  for (let i = 0; i < meta.length / META; i++) {
    const m = i * META;
    if (meta[m] !== 1) {
      out.push(null);
      continue;
    }
    const size = meta[m + 1]!;
    const inlined = size <= inlineMax ? size : 0;
    // One copy per file holds its hashes and inline bytes (three were ~1 µs each); the
    // batch's own buffers are not kept alive by what is retained.
    const own = new Uint8Array(64 + inlined);
    own.set(hashes.subarray(64 * i, 64 * i + 64));
    own.set(data.subarray(at, at + inlined), 64);
    at += inlined;
    out.push({
      stat: {
        kind: 'file',
        size,
        mtimeMs: meta[m + 2]!,
        ctimeMs: meta[m + 3]!,
        ino: meta[m + 4]!,
        mode: meta[m + 5]!,
      },
      hash: own.subarray(0, size > 0 ? 32 : 0),
      digest: own.subarray(32, 64),
      inline: own.subarray(64),
    });
  }
}
