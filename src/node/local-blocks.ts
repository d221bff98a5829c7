// Reading blocks from files on this disk, for peers that request them and for reuse when
// assembling a new version. A file being read is kept open for a moment (a transfer asks
// for its blocks one after another) with its block list as a map; a block is trusted
// without re-hashing when the file's stat still equals its index entry, which lists that
// block — otherwise it is verified. Either way the receiver verifies again.
import type { FileSystem } from '../fs/types.ts';
import type { Store } from '../log/store.ts';
import type { Block } from '../proto/types.ts';
import type { Env, Timer } from '../util/env.ts';
import { hexOf } from '../util/hex.ts';
import { verify } from './content.ts';
import { type OpenFile, openForBlocks, sameStat } from './open-file.ts';

/** Blocks `count` in a row that file `path` holds back to back from offset `at`. */
export interface TrustedRun {
  path: string;
  at: number;
  count: number;
  bytes: number;
  /** The open file that vouched for it: read through no other (the path may be reopened). */
  readonly source: object;
}

const MAX_OPEN = 32;
const IDLE_MS = 2000;

export class LocalBlocks {
  private readonly files = new Map<string, OpenFile>();
  private readonly opening = new Map<string, Promise<OpenFile | null>>();
  private sweeper: Timer | null = null;

  constructor(
    private readonly fs: FileSystem,
    private readonly store: Store,
    private readonly env: Env,
  ) {}

  /**
   * The block's bytes from this disk, or null. `hints` are paths likely to hold it (the
   * path the version belongs to, the file it replaces); the block index is tried last.
   * `into` (block.length bytes) receives them if given, else a new buffer does.
   */
  async read(block: Block, hints: readonly string[] = [], into?: Uint8Array): Promise<Uint8Array | null> {
    const hex = hexOf(block.hash);
    const tried = new Set<string>();
    for (const path of hints) {
      if (tried.has(path)) continue;
      tried.add(path);
      // A hinted file is most likely the version itself: the block at its own offset.
      const data = await this.readFrom(path, block, hex, block.offset, into);
      if (data) return data;
    }
    const loc = this.store.blockLocation(block.hash);
    if (loc && !tried.has(loc.path)) return this.readFrom(loc.path, block, hex, loc.offset, into);
    return null;
  }

  /**
   * Whether this disk may hold the block, as far as is known without reading: a hinted file
   * open here lists it or is not vouched for by its index entry (read() would try the
   * block's offset there), or the block index knows it. Hinted files are opened by trustedRun.
   */
  mayHave(block: Block, hints: readonly string[]): boolean {
    const hex = hexOf(block.hash);
    for (const path of hints) {
      const f = this.files.get(path);
      if (f && (f.trusted.has(hex) || (f.trusted.size === 0 && f.stat.size > 0))) return true;
    }
    return this.store.blockLocation(block.hash) !== null;
  }

  /**
   * The longest run of `blocks[from..]` that one hinted file holds back to back, every block
   * trusted there (listed at that very offset by the file's index entry, whose stat still
   * matches the disk): such a run is read in one piece (readRun), not block by block. At
   * most `maxBytes`, and ending before `blocks[end]`; null if `blocks[from]` does not start
   * a run of two or more.
   */
  async trustedRun(
    blocks: readonly Block[],
    from: number,
    hints: readonly string[],
    maxBytes: number,
    end = blocks.length,
  ): Promise<TrustedRun | null> {
    const first = blocks[from];
    if (!first) return null;
    const tried = new Set<string>();
    for (const path of hints) {
      if (tried.has(path)) continue;
      tried.add(path);
      let f = await this.openFile(path);
      let at = f?.trusted.get(hexOf(first.hash));
      // Kept open since before an edit in place (recorded since): judge it by its entry now.
      // Without this, the sender of an edit served none of its new blocks as a run.
      if (f && at === undefined && !(await this.unchanged(path, f))) {
        f = await this.openFile(path);
        at = f?.trusted.get(hexOf(first.hash));
      }
      if (!f || at === undefined) continue;
      let bytes = first.length;
      let next = from + 1;
      for (; next < end; next++) {
        const b = blocks[next]!;
        if (bytes + b.length > maxBytes || f.trusted.get(hexOf(b.hash)) !== at + bytes) break;
        bytes += b.length;
      }
      if (next - from >= 2) return { path, at, count: next - from, bytes, source: f };
    }
    return null;
  }

  /**
   * Fill `into` from a run trustedRun found. False if the file changed meanwhile (or could
   * not be read): then nothing of it is trusted, and the caller takes the blocks one by one.
   */
  async readRun(run: TrustedRun, into: Uint8Array): Promise<boolean> {
    const f = run.source as OpenFile;
    if (f.dropped || into.length !== run.bytes) return false;
    const got = await this.readAt(run.path, f, into, run.at);
    if (got === 'same') this.used(run.path, f);
    return got === 'same';
  }

  private async readFrom(
    path: string,
    block: Block,
    hex: string,
    offset: number | null,
    into?: Uint8Array,
  ): Promise<Uint8Array | null> {
    // Dropped by another read since it was opened (that read found it changed): open again.
    let f = await this.openFile(path);
    if (f?.dropped) f = await this.openFile(path);
    if (!f) return null;
    const at = f.trusted.get(hex) ?? offset;
    if (at === null || at === undefined) return null;
    const buf = into ?? new Uint8Array(block.length);
    const got = await this.readAt(path, f, buf, at);
    if (got === 'short' || got === 'failed') return null;
    if (got === 'same' && f.trusted.get(hex) === at) return buf;
    return verify(buf, block) ? buf : null;
  }

  /**
   * Fill `into` from offset `at` of an open file. 'same': read whole, the file's stat
   * unchanged since it was opened. 'changed': read whole, but the file was written meanwhile,
   * so nothing about it is trusted any more (it is dropped). 'short': it ended first.
   * 'failed': a read error (dropped).
   */
  private async readAt(
    path: string,
    f: OpenFile,
    into: Uint8Array,
    at: number,
  ): Promise<'same' | 'changed' | 'short' | 'failed'> {
    if (f.dropped) return 'failed';
    f.users++;
    try {
      for (let got = 0; got < into.length; ) {
        const n = await f.handle.read(into, got, into.length - got, at + got);
        if (n === 0) return 'short';
        got += n;
      }
      if (sameStat(await f.handle.stat(), f.stat)) return 'same';
      this.drop(path, f);
      return 'changed';
    } catch {
      this.drop(path, f);
      return 'failed';
    } finally {
      this.release(f);
    }
  }

  /** The open file still has the stat it was opened with; else it is dropped. */
  private async unchanged(path: string, f: OpenFile): Promise<boolean> {
    if (f.dropped) return false;
    f.users++;
    try {
      if (sameStat(await f.handle.stat(), f.stat)) return true;
    } catch {
      // unreadable: dropped below
    } finally {
      this.release(f);
    }
    this.drop(path, f);
    return false;
  }

  private async openFile(path: string): Promise<OpenFile | null> {
    const cached = this.files.get(path);
    if (cached) {
      this.used(path, cached);
      return cached;
    }
    // Concurrent reads of one file share one opening (and so one handle).
    let opening = this.opening.get(path);
    if (!opening) {
      opening = this.doOpen(path).finally(() => this.opening.delete(path));
      this.opening.set(path, opening);
    }
    return opening;
  }

  private async doOpen(path: string): Promise<OpenFile | null> {
    const f = await openForBlocks(this.fs, this.store, this.env, path);
    if (!f) return null;
    this.files.set(path, f);
    if (this.files.size > MAX_OPEN) this.evictOldest();
    this.armSweeper();
    return f;
  }

  /**
   * A file just used goes to the end of the map, which so keeps its files in order of last
   * use: the oldest is the first. (Finding it by a scan cost a pass over all the open files
   * for each file opened past MAX_OPEN: 12 MiB of a 5,000-file burst's sender's allocations.)
   * One dropped meanwhile (a read awaited) stays dropped.
   */
  private used(path: string, f: OpenFile): void {
    f.usedMs = this.env.now();
    if (this.files.get(path) !== f) return;
    this.files.delete(path);
    this.files.set(path, f);
  }

  private evictOldest(): void {
    const oldest = this.files.keys().next();
    if (!oldest.done) this.drop(oldest.value);
  }

  /**
   * Forget the file open at `path` (only if it is still `which`, when given: a read through
   * a handle dropped meanwhile must not drop the one opened since). Its handle is closed
   * once no read is under way through it: closed under a read, that read failed, and a
   * block the file holds was reported missing (and its transfer failed).
   */
  private drop(path: string, which?: OpenFile): void {
    const f = this.files.get(path);
    if (!f || (which && f !== which)) return; // (an open file leaves the map only by being dropped)
    this.files.delete(path);
    f.dropped = true;
    if (f.users === 0) f.handle.close().catch(() => {});
  }

  private release(f: OpenFile): void {
    f.users--;
    if (f.dropped && f.users === 0) f.handle.close().catch(() => {});
  }

  private armSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = this.env.setTimer(IDLE_MS, () => {
      this.sweeper = null;
      const now = this.env.now();
      for (const [p, f] of [...this.files]) if (now - f.usedMs >= IDLE_MS) this.drop(p);
      if (this.files.size) this.armSweeper();
    });
  }

  close(): void {
    this.sweeper?.cancel();
    this.sweeper = null;
    for (const p of [...this.files.keys()]) this.drop(p);
  }
}
