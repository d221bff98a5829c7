// I/O on a raw descriptor for DiskFs's hot paths. Transfers of up to SMALL_IO bytes (a
// content block is at most 256 KiB; a small file's whole content) and metadata calls are
// made synchronously: from the page cache they take microseconds, while on this kind of
// machine each thread-pool round trip costs the event loop ~100 µs (the woken worker
// preempts it), which dominated both bursts of small files and the ~8,000 block writes of a
// 512 MiB transfer. Larger writes stay on the thread pool; so do fsyncs, except a lone small
// file's. Larger reads (the hasher's 1 MiB) are made in-line too while they come from the
// page cache: on the pool, the pool's thread was a third busy thread beside the main thread
// (chunking) and the hash worker on two cores, and a 2 GiB file hashed ~8% slower. A few
// slow ones in a row (the disk) send the handle's later large reads to the pool, so a cold
// file's reading overlaps its chunking and the event loop is not held by the disk. The price: a
// cold small read, the kernel throttling a writer of many dirty pages, or a journal commit
// behind that lone fsync, stalls the event loop meanwhile. A large file being assembled
// writes past the page cache instead (writeDirect: fs/direct-write.ts).
import {
  closeSync,
  fdatasync,
  fstatSync,
  fsync,
  fsyncSync,
  read,
  readSync,
  type Stats,
  write,
  writeSync,
} from 'node:fs';
import { DirectStage } from './direct-write.ts';
import { toFsError } from './disk-errors.ts';
import { FsError } from './types.ts';

export const SMALL_IO = 256 * 1024;
/** A large read that took longer than this came from the disk, not the page cache. */
export const SLOW_READ_MS = 4;
/**
 * Slow large reads in a row that send a handle's reads to the pool. One alone is not
 * enough: writeback of a file just written (dirty pages) stalls a read now and then, and
 * the first stall sent a 2 GiB file's remaining reads to the pool (6-7 ms at ~0.5 GiB,
 * 3 runs of 3).
 */
export const SLOW_READS = 3;
/**
 * A file being written starts the writeback of each this many bytes (an fdatasync on the
 * pool, one at a time), so its data goes to the disk while the rest is still being written
 * and its final fsync finds little left to do. 512 MiB written in 1 MiB pieces, then
 * fsynced: 390-580 ms in all; with this, 250-270 ms (bench/notes/machine.md). A temp file
 * is renamed into place only after its final fsync, whatever these did.
 */
export const WRITEBACK_BYTES = 32 << 20;

/** Descriptors of this process written to and not yet closed (files being assembled). */
let writersOpen = 0;

export class FdIo {
  private closed = false;
  private writer = false;
  /** Large reads were slow: the file is not in the page cache, read it on the pool. */
  private cold = false;
  private slowInARow = 0;
  /** Calls on the thread pool: close waits for them, or the fd number could be reused under them. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Bytes written since the last writeback started. */
  private unflushed = 0;
  private writeback: Promise<void> | null = null;
  /** A writeback's error, kept for fsync: the kernel reports a write error only once. */
  private writebackError: unknown = null;

  constructor(
    readonly fd: number,
    private readonly path: string,
    /** Size at the last fstat or write's end, whichever is later (reads near the end are small; fsync). */
    private size = 0,
    private readonly slowReadMs = SLOW_READ_MS,
    private readonly writebackBytes = WRITEBACK_BYTES,
  ) {}

  /** Writebacks started so far (see WRITEBACK_BYTES). */
  writebacks = 0;

  /** Set by writeDirect: the file's chunks go past the page cache (fs/direct-write.ts). */
  private stage: DirectStage | null = null;
  private directFd: number | null = null;

  /**
   * Write this file past the page cache from now on, through `directFd` (the same file
   * opened with O_DIRECT; closed with this handle), up to `size` bytes.
   */
  writeDirect(directFd: number, size: number): void {
    this.directFd = directFd;
    this.stage = new DirectStage(
      size,
      (buf, position) => this.pooled<number>((done) => write(directFd, buf, 0, buf.length, position, done)),
      (buf, position) => this.writeBuffered(buf, position),
    );
  }

  /** Large reads go to the thread pool (one was slow). */
  get readsPooled(): boolean {
    return this.cold;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    if (this.closed) return Promise.reject(this.afterClose());
    const large = length > SMALL_IO && this.size - position > SMALL_IO;
    if (large && this.cold)
      return this.pooled<number>((done) => read(this.fd, buf, offset, length, position, done));
    try {
      const t = large ? performance.now() : 0;
      const n = readSync(this.fd, buf, offset, large ? length : Math.min(length, SMALL_IO), position);
      if (large) {
        this.slowInARow = performance.now() - t > this.slowReadMs ? this.slowInARow + 1 : 0;
        if (this.slowInARow >= SLOW_READS) this.cold = true;
      }
      return Promise.resolve(n);
    } catch (err) {
      return Promise.reject(toFsError(err, this.path));
    }
  }

  /** Writes all of `data` at `position` (`copied`: see DirectStage.write). */
  async write(data: Uint8Array, position: number, copied = false): Promise<void> {
    if (this.closed) throw this.afterClose();
    this.size = Math.max(this.size, position + data.length);
    if (!this.writer) {
      this.writer = true;
      writersOpen++;
    }
    return this.stage ? this.stage.write(data, position, copied) : this.writeBuffered(data, position);
  }

  private async writeBuffered(data: Uint8Array, position: number): Promise<void> {
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
    this.unflushed += data.length;
    if (this.unflushed >= this.writebackBytes && this.writeback === null && !this.closed)
      this.startWriteback();
  }

  private startWriteback(): void {
    this.unflushed = 0;
    this.writebacks++;
    this.writeback = this.pooled<void>((done) => fdatasync(this.fd, (err) => done(err, undefined))).then(
      () => {
        this.writeback = null;
      },
      (err: unknown) => {
        this.writeback = null;
        this.writebackError ??= err;
      },
    );
  }

  /** Every write made: staged chunks written out (before the metadata is set, which a write would change). */
  async flush(): Promise<void> {
    if (this.closed) throw this.afterClose();
    await this.stage?.flush();
  }

  async fsync(): Promise<void> {
    if (this.closed) throw this.afterClose();
    await this.stage?.flush();
    // After a writeback, not beside it: two syncs of one file at once, only one of them
    // would be told of a write error.
    if (this.writeback !== null) await this.writeback;
    if (this.writebackError !== null) throw this.writebackError;
    return this.syncNow();
  }

  private syncNow(): Promise<void> {
    // A lone small file (one change arriving, the common case) is synced right here: the
    // fsync itself takes ~0.5 ms, the pool's round trip doubled that on a propagation's
    // critical path. While other files are being written (a burst), fsyncs overlap on the
    // pool instead: made here one after another, 5,000 of them held the loop for 2.3 s.
    if (writersOpen <= 1 && this.size <= SMALL_IO) {
      try {
        fsyncSync(this.fd);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(toFsError(err, this.path));
      }
    }
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
    await this.stage?.close();
    if (this.writer) writersOpen--;
    await Promise.all(this.inFlight);
    closeSync(this.fd);
    if (this.directFd !== null) closeSync(this.directFd);
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
