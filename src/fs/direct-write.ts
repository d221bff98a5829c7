// A large file being assembled goes to the disk past the page cache (O_DIRECT). On this
// kind of VM, memory the kernel freed is handed back to the host, and the first touch of a
// page again costs a fault on the host: copying 512 MiB into new page-cache pages took
// 1.1-1.5 s of system time, and its fsync 0.3 s more; the same bytes written directly from
// a few reused buffers took 0.45 s in all and ~0.1 s of CPU (bench/notes/machine.md). It
// also keeps a large transfer from pushing the user's working set out of the page cache.
//
// Direct writes need aligned offsets, lengths and memory, and blocks land anywhere: writes
// are copied into CHUNK-sized staging buffers (page-aligned), one per CHUNK of the file,
// and a chunk is written once it is full, in the background (flush waits for it). A chunk
// that finds no free buffer waits for one while this file's own writes hold them; one that
// finds none otherwise, bytes past the announced size, the file's unaligned tail, and
// anything written after its chunk went out take the ordinary (page cache) write. So do
// bytes copied from local files (an edit's unchanged blocks) unless their chunk is already
// staged: the old version they are read from is cached, and the pages it frees as the new
// one replaces it are reused before the host takes them back; an edit of a 512 MiB file
// copied that way was no slower than before, while copied past the cache its next edit
// read it cold.
import { errnoOf } from './disk-errors.ts';

/** Files of at least this size are written past the page cache. */
export const DIRECT_MIN = 8 << 20;
/** Bytes staged and written by one direct write; chunks start at multiples of it. */
export const CHUNK = 1 << 20;
/** Alignment of a direct write's offset, length and memory (a page suits common devices). */
export const DIRECT_ALIGN = 4096;

/** Page-aligned staging buffers of CHUNK bytes. */
export interface StageSlots {
  take(): Uint8Array | null;
  give(buf: Uint8Array): void;
}

/**
 * Staging buffers shared by every file, in a memory of their own: a wasm memory, whose
 * start is page-aligned. Not the hasher's shared one: copies into shared memory run at well
 * under 1 GB/s here, and a chunk's copy is on the main thread. Created when a file starts
 * and let go once no file uses it (its pages go back with the next full collection): kept,
 * the ~5 MiB a transfer had touched stayed in the daemon's RSS for good.
 */
const STAGE_SLOTS = 8;
interface WasmMemoryApi {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}
let stageMemory: ArrayBuffer | null = null;
const freeStage: number[] = [];
/** DirectStages not closed yet (with the default slots). */
let stagesOpen = 0;

export const stageSlots: StageSlots = {
  take() {
    if (stageMemory === null) {
      const { WebAssembly } = globalThis as unknown as { WebAssembly: WasmMemoryApi };
      const pages = (STAGE_SLOTS * CHUNK) / 65536;
      stageMemory = new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer;
      for (let i = STAGE_SLOTS - 1; i >= 0; i--) freeStage.push(i * CHUNK);
    }
    const at = freeStage.pop();
    return at === undefined ? null : new Uint8Array(stageMemory, at, CHUNK);
  },
  give(buf) {
    if (buf.buffer === stageMemory) freeStage.push(buf.byteOffset); // (not one let go since)
  },
};

/** Whether the staging memory exists now (tests: it is let go once no file uses it). */
export function stagingAllocated(): boolean {
  return stageMemory !== null;
}

let chunksWritten = 0;
/** Chunks this process has written directly so far (tests). */
export function directChunksWritten(): number {
  return chunksWritten;
}

/** EINVAL, raw or kept as an FsError's cause: this file refuses a direct write of this shape. */
function refused(err: unknown): boolean {
  return errnoOf(err) === 'EINVAL' || errnoOf((err as { cause?: unknown } | null)?.cause) === 'EINVAL';
}

/** Writes `buf` at `position`; the direct one resolves with the bytes written. */
export type DirectWrite = (buf: Uint8Array, position: number) => Promise<number>;
export type BufferedWrite = (buf: Uint8Array, position: number) => Promise<void>;

interface Staged {
  buf: Uint8Array;
  filled: number;
  length: number;
}

export class DirectStage {
  private readonly staged = new Map<number, Staged>();
  /** Chunks done with staging: their direct write while it runs, else null (page cache). */
  private readonly gone = new Map<number, Promise<void> | null>();
  private readonly running = new Set<Promise<void>>();
  /** Direct writes of staged chunks under way (each holds a slot). */
  private sending = 0;
  private failed: unknown = null;
  /** False once the file refused a direct write (EINVAL): the rest goes through the page cache. */
  private direct = true;
  private closed = false;
  /** close() has begun: a write waiting for a buffer must not take one now. */
  private closing = false;

  constructor(
    /** The size the file will have: chunks are cut at it. */
    private readonly size: number,
    private readonly writeDirect: DirectWrite,
    private readonly writeBuffered: BufferedWrite,
    private readonly slots: StageSlots = stageSlots,
  ) {
    if (slots === stageSlots) stagesOpen++;
  }

  /**
   * Stage (or write) `data` at `position`. Resolves once the bytes are staged (a chunk they
   * fill is written in the background), or written if they bypass staging; rejects with
   * that write's error, or an earlier background one's. `copied`
   * bytes (read from local files) start no chunk of their own: see the file comment.
   */
  write(data: Uint8Array, position: number, copied = false): Promise<void> {
    const waits: Promise<void>[] = [];
    const within = Math.max(0, Math.min(data.length, this.size - position));
    for (let at = 0; at < within; ) {
      const pos = position + at;
      const chunk = Math.floor(pos / CHUNK);
      const n = Math.min(within - at, (chunk + 1) * CHUNK - pos);
      const p = this.put(chunk, pos - chunk * CHUNK, data.subarray(at, at + n), copied);
      if (p) waits.push(p);
      at += n;
    }
    if (within < data.length)
      waits.push(this.track(this.writeBuffered(data.subarray(within), position + within)));
    if (waits.length === 0) return Promise.resolve();
    return waits.length === 1 ? waits[0]! : Promise.all(waits).then(() => {});
  }

  /** Write every chunk still staged (a part never written reads as zeros, as a hole would). */
  async flush(): Promise<void> {
    for (const [chunk, s] of [...this.staged]) this.send(chunk, s);
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    if (this.failed !== null) throw this.failed;
  }

  /** Drop what is staged and wait for the writes under way (the file is being abandoned or closed). */
  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.staged.values()) this.slots.give(s.buf);
    this.staged.clear();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    if (this.closed) return;
    this.closed = true;
    if (this.slots === stageSlots && --stagesOpen === 0) {
      stageMemory = null;
      freeStage.length = 0;
    }
  }

  private put(chunk: number, off: number, piece: Uint8Array, copied: boolean): Promise<void> | null {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.closing) return Promise.reject(new Error('write after close'));
    let s = this.staged.get(chunk);
    if (!s && !copied && !this.gone.has(chunk) && this.direct) {
      const buf = this.slots.take();
      if (buf) {
        const length = Math.min(CHUNK, this.size - chunk * CHUNK);
        buf.fill(0, 0, length); // a slot holds someone's old bytes
        s = { buf, filled: 0, length };
        this.staged.set(chunk, s);
      } else if (this.sending > 0) {
        // Our own direct writes hold the slots and give them back as they end: wait for
        // one rather than take the page cache (the disk is behind the network, then).
        return Promise.race(this.running).then(() => this.put(chunk, off, piece, copied) ?? undefined);
      }
    }
    if (!s) {
      // Through the page cache; after the chunk's direct write if it is still running (a
      // byte written twice must end up as the later write has it).
      const before = this.gone.get(chunk) ?? null;
      if (!this.gone.has(chunk)) this.gone.set(chunk, null);
      const pos = chunk * CHUNK + off;
      return this.track(
        before ? before.then(() => this.writeBuffered(piece, pos)) : this.writeBuffered(piece, pos),
      );
    }
    s.buf.set(piece, off);
    s.filled += piece.length;
    // The chunk's write goes on in the background (flush waits for it, and an error fails
    // the next write or the flush): the caller's window of requests moves on meanwhile.
    // Waiting for it held each 1 MiB run of a new file 1-2 ms longer in the window.
    if (s.filled >= s.length) void this.send(chunk, s).catch(() => {});
    return null;
  }

  private send(chunk: number, s: Staged): Promise<void> {
    this.staged.delete(chunk);
    const pos = chunk * CHUNK;
    const bytes = s.buf.subarray(0, s.length);
    const viaCache = () => this.writeBuffered(bytes, pos);
    let p: Promise<void>;
    if (!this.direct || s.length % DIRECT_ALIGN !== 0) p = viaCache();
    else
      p = this.writeDirect(bytes, pos).then(
        (n) => {
          chunksWritten++;
          if (n < bytes.length) return this.writeBuffered(bytes.subarray(n), pos + n);
        },
        (err: unknown) => {
          if (!refused(err)) throw err;
          this.direct = false;
          return viaCache();
        },
      );
    this.sending++;
    const done = p.finally(() => {
      this.sending--;
      this.slots.give(s.buf);
      if (this.gone.get(chunk) === done) this.gone.set(chunk, null);
    });
    this.gone.set(chunk, done);
    return this.track(done);
  }

  private track(p: Promise<void>): Promise<void> {
    const settled = p.then(
      () => {},
      (err: unknown) => {
        this.failed ??= err;
      },
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return p;
  }
}
