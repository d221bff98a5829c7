// The file hash thread (started by src/fs/file-hash-client.ts): reads a file through a
// descriptor the main thread keeps open, chunks it here and hashes on its own SHA-256
// worker, and posts the Content back packed into transferable buffers. Reads are
// synchronous: this thread has nothing else to do, and the data is then chunked while it is
// still in this core's cache.
import { fstatSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { toFsError } from './disk-errors.ts';
import { toStat } from './disk-stat.ts';
import type { FileFailure, FileJob, FileResult } from './file-hash-client.ts';
import { hashHandle } from './hasher.ts';
import type { ReadHandle, Stat } from './types.ts';

class SyncFdHandle implements ReadHandle {
  constructor(
    private readonly descriptor: number,
    private readonly path: string,
  ) {}

  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    try {
      return Promise.resolve(readSync(this.descriptor, buf, offset, length, position));
    } catch (err) {
      return Promise.reject(toFsError(err, this.path));
    }
  }

  async stat(): Promise<Stat> {
    return toStat(fstatSync(this.descriptor));
  }

  async close(): Promise<void> {} // the main thread owns the descriptor
}

async function run(job: FileJob): Promise<void> {
  const port = parentPort!;
  try {
    const opts = {
      ...(job.params ? { params: job.params } : {}),
      ...(job.inlineMax !== undefined ? { inlineMax: job.inlineMax } : {}),
    };
    const c = await hashHandle(new SyncFdHandle(job.fd, job.path), job.path, job.size, opts);
    const ends = new Float64Array(c.blocks.length);
    const hashes = new Uint8Array(32 * c.blocks.length);
    c.blocks.forEach((b, i) => {
      ends[i] = b.offset + b.length;
      hashes.set(b.hash, 32 * i);
    });
    const r: FileResult = {
      id: job.id,
      size: c.size,
      digest: c.digest,
      inlineData: c.inlineData,
      ends,
      hashes,
    };
    port.postMessage(r, [ends.buffer, hashes.buffer]);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;
    const f: FileFailure = {
      id: job.id,
      error: { message: e instanceof Error ? e.message : String(e), ...(code ? { code } : {}) },
    };
    port.postMessage(f);
  }
}

parentPort?.on('message', (job: FileJob) => void run(job));
