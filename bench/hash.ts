// Chunking + hashing throughput and delta locality.
//   node --import tsx bench/hash.ts [--size-mib N] [--file PATH] [--delta-mib M] [--reps R]
// Throughput: plain SHA-256 vs chunk-only vs chunk+hash (hashStream / hashFile), for an
// in-memory buffer and a file on disk (a temp file of N MiB, page cache warm, unless --file).
// Each figure is the best of R interleaved runs (the machine may be shared: the best run is
// the least disturbed). With it: GB per on-CPU second of the main thread and of the busiest
// other thread (the hash worker, or a read thread) and how long the main thread sat waiting
// for a CPU. On a busy machine the wall figures drop; the per-thread CPU figures show what
// the run would do with both cores free (its rate is bounded by the slower thread). Delta: bytes/blocks a peer must fetch after a 1-byte insertion
// at the front and a 1 MiB overwrite in the middle of an M MiB random file.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Chunker, DEFAULT_CHUNK_PARAMS } from '../src/fs/chunker.ts';
import { DiskFs } from '../src/fs/disk.ts';
import { READ_BUFFER } from '../src/fs/hash-pipeline.ts';
import { hashFile, hashStream } from '../src/fs/hasher.ts';
import type { Content } from '../src/proto/types.ts';

const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '2048' },
    file: { type: 'string' },
    'delta-mib': { type: 'string', default: '512' },
    reps: { type: 'string', default: '3' },
  },
});
const MiB = 1 << 20;
const size = Number(args['size-mib']) * MiB;
const reps = Number(args.reps);
const PIECE = READ_BUFFER;

function random(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let o = 0; o < n; o += 64 * MiB) randomFillSync(b, o, Math.min(64 * MiB, n - o));
  return b;
}

async function* pieces(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += PIECE) yield data.subarray(o, o + PIECE);
}

async function readAll(path: string, each: (b: Uint8Array) => void): Promise<number> {
  const fh = await open(path, 'r');
  const buf = new Uint8Array(PIECE);
  let pos = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return pos;
      each(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

type Case = Record<string, () => Promise<unknown>>;

interface Figure {
  /** Best wall-clock throughput, GB/s. */
  gbps: number;
  /** In that run, GB per on-CPU second of the main thread and of the busiest other thread. */
  main: number;
  other: number;
  /** Share of the run the main thread spent runnable but waiting for a CPU (contention). */
  waited: number;
}

/** On-CPU and run-queue-wait nanoseconds of each thread of this process (Linux schedstat). */
function threadTimes(): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(t, [run ?? 0, wait ?? 0]);
    }
  } catch {} // not Linux: those columns stay empty
  return out;
}

async function measure(bytes: number, cases: Case): Promise<Record<string, Figure>> {
  const best: Record<string, Figure> = {};
  const mainTid = String(process.pid);
  for (let r = 0; r < reps; r++) {
    for (const [name, run] of Object.entries(cases)) {
      const before = threadTimes();
      const t = performance.now();
      await run();
      const ms = performance.now() - t;
      const gbps = bytes / (ms * 1e6);
      let main = 0;
      let other = 0;
      let waited = 0;
      for (const [tid, [run1, wait1]] of threadTimes()) {
        const [run0, wait0] = before.get(tid) ?? [0, 0];
        if (tid === mainTid) {
          main = run1 - run0;
          waited = (wait1 - wait0) / 1e6 / ms;
        } else other = Math.max(other, run1 - run0);
      }
      const fig = { gbps, main: bytes / main, other: other > 0 ? bytes / other : 0, waited };
      if (gbps > (best[name]?.gbps ?? 0)) best[name] = fig;
    }
  }
  return best;
}

function report(title: string, r: Record<string, Figure>, base: number): void {
  console.log(`\n${title}`);
  console.log(`  ${''.padEnd(22)} wall GB/s  vs plain  | GB per CPU-s: main  other | main waited`);
  for (const [k, v] of Object.entries(r)) {
    const cols = [v.gbps.toFixed(2).padStart(9), `${(v.gbps / base).toFixed(2)}x`.padStart(9)];
    const cpu = [v.main.toFixed(2).padStart(16), (v.other >= 0.05 ? v.other.toFixed(2) : '-').padStart(6)];
    console.log(
      `  ${k.padEnd(22)} ${cols.join(' ')}  |${cpu.join(' ')} | ${(100 * v.waited).toFixed(0).padStart(5)}%`,
    );
  }
}

const chunkOnly = (data: Uint8Array) => {
  const c = new Chunker();
  for (let o = 0; o < data.length; o += PIECE) c.push(data.subarray(o, o + PIECE));
  return c.finish();
};

async function throughput(): Promise<void> {
  console.log(
    `params ${JSON.stringify(DEFAULT_CHUNK_PARAMS)}, read buffer ${PIECE / MiB} MiB, best of ${reps}`,
  );
  const data = random(size);
  const mem = await measure(size, {
    'plain SHA-256': async () => {
      const h = createHash('sha256'); // same 1 MiB pieces as the others (and OpenSSL's int limit)
      for (let o = 0; o < data.length; o += PIECE) h.update(data.subarray(o, o + PIECE));
      return h.digest();
    },
    'chunk only': async () => chunkOnly(data),
    'chunk+hash': () => hashStream(pieces(data)),
  });
  report(`in memory, ${size / MiB} MiB`, mem, mem['plain SHA-256']!.gbps);

  const dir = mkdtempSync(join(tmpdir(), 'resonate-bench-hash-'));
  try {
    let path = args.file;
    if (!path) {
      path = join(dir, 'data');
      const fd = openSync(path, 'w'); // the file stays in the page cache
      for (let o = 0; o < data.length; o += 64 * MiB)
        writeSync(fd, data, o, Math.min(64 * MiB, data.length - o));
      closeSync(fd);
    }
    const fs = new DiskFs(dirname(resolve(path))); // the daemon's own read path
    const fileBytes = await readAll(path, () => {});
    const file = await measure(fileBytes, {
      'read only': () => readAll(path, () => {}),
      'read + SHA-256': async () => {
        const h = createHash('sha256');
        await readAll(path, (b) => h.update(b));
        return h.digest();
      },
      'read + chunk': async () => {
        const c = new Chunker();
        await readAll(path, (b) => c.push(b));
        return c.finish();
      },
      'hashFile (chunk+hash)': () => hashFile(fs, basename(path)),
    });
    report(`file on disk (page cache warm), ${fileBytes / MiB} MiB`, file, mem['plain SHA-256']!.gbps);
    const ratio = file['hashFile (chunk+hash)']!.gbps / file['read + SHA-256']!.gbps;
    console.log(`  hashFile / (read + SHA-256): ${ratio.toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function diff(before: Content, after: Content): { bytes: number; blocks: number } {
  const have = new Set(before.blocks.map((b) => Buffer.from(b.hash).toString('hex')));
  let bytes = 0;
  let blocks = 0;
  for (const b of after.blocks) {
    if (have.has(Buffer.from(b.hash).toString('hex'))) continue;
    bytes += b.length;
    blocks++;
  }
  return { bytes, blocks };
}

async function delta(): Promise<void> {
  const n = Number(args['delta-mib']) * MiB;
  const base = random(n);
  const before = await hashStream(pieces(base));
  console.log(
    `\ndelta, ${n / MiB} MiB random file: ${before.blocks.length} blocks (~${((before.blocks.length * 40) / 1024).toFixed(0)} KiB of block list in an operation)`,
  );
  const show = (name: string, d: { bytes: number; blocks: number }) =>
    console.log(
      `  ${name.padEnd(30)} ${(d.bytes / 1024).toFixed(0).padStart(6)} KiB in ${d.blocks} new blocks`,
    );
  show(
    '1-byte insertion at front',
    diff(before, await hashStream(pieces(Buffer.concat([Buffer.from([0x5a]), base])))),
  );
  const mid = Math.floor(n / 2) + 12345;
  randomFillSync(base, mid, MiB);
  show('1 MiB overwrite in the middle', diff(before, await hashStream(pieces(base))));
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`load average before: ${load()} (${cpus().length} cpus; the pipeline needs both free)`);
await throughput();
await delta();
console.log(`\nload average after: ${load()}`);
