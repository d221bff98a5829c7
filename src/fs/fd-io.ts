// I/O on a raw descriptor for DiskFs's hot paths. Transfers of up to SMALL_IO bytes (a
// content block is at most 256 KiB; a small file's whole content) and metadata calls are
// made synchronously: from the page cache they take microseconds, while on this kind of
// machine each thread-pool round trip costs the event loop ~100 µs (the woken worker
// preempts it), which dominated both bursts of small files and the ~8,000 block writes of a
// 512 MiB transfer. Larger transfers (the hasher's 1 MiB reads) and fsync stay on the thread
// pool, so hashing a big file overlaps its reading. The price: a cold read from a slow disk,
// or the kernel throttling a writer of many dirty pages, stalls the event loop meanwhile.
import { closeSync, fstatSync, fsync, read, readSync, type Stats, write, writeSync } from 'node:fs';
import { toFsError } from './disk-errors.ts';
import { FsError } from './types.ts';

export const SMALL_IO = 256 * 1024;

export class FdIo {
  private closed = false;
  /** Calls on the thread pool: close waits for them, or the fd number could be reused under them. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    readonly fd: number,
    private readonly path: string,
    /** Size at the last fstat (reads near the end are small). */
    private size = 0,
  ) {}

  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    if (this.closed) return Promise.reject(this.afterClose());
    if (length <= SMALL_IO || this.size - position <= SMALL_IO) {
      try {
        return Promise.resolve(readSync(this.fd, buf, offset, Math.min(length, SMALL_IO), position));
      } catch (err) {
        return Promise.reject(toFsError(err, this.path));
      }
    }
    return this.pooled<number>((done) => read(this.fd, buf, offset, length, position, done));
  }

  /** Writes all of `data` at `position`. */
  async write(data: Uint8Array, position: number): Promise<void> {
    if (this.closed) throw this.afterClose();
    let done = 0;
    while (done < data.length) {
      const at = position + done;
      const len = data.length - done;
      if (len <= SMALL_IO) {
        try {
          done += writeSync(this.fd, data, done, len, at);
        } catch (err) {
          throw toFsError(err, this.path);
        }
      } else {
        done += await this.pooled<number>((cb) => write(this.fd, data, done, len, at, cb));
      }
    }
  }

  fsync(): Promise<void> {
    if (this.closed) return Promise.reject(this.afterClose());
    return this.pooled<void>((done) => fsync(this.fd, (err) => done(err, undefined)));
  }

  stat(): Stats {
    if (this.closed) throw this.afterClose();
    try {
      const st = fstatSync(this.fd);
      this.size = st.size;
      return st;
    } catch (err) {
      throw toFsError(err, this.path);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.inFlight);
    closeSync(this.fd);
  }

  private pooled<T>(start: (done: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
    const p = new Promise<T>((resolve, reject) =>
      start((err, v) => (err ? reject(toFsError(err, this.path)) : resolve(v))),
    );
    const settled = p.then(
      () => {},
      () => {},
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return p;
  }

  private afterClose(): FsError {
    return new FsError('ERR_IO', this.path, 'descriptor used after close');
  }
}
