// Assembling a file version's bytes into a temp file: blocks already on this disk are
// reused (the old version of the file, any other file with the same block: renames and
// small edits move almost nothing), the rest is fetched from peers. Every block is
// verified against its SHA-256 before it is written; memory stays bounded by a window of
// blocks in flight, so multi-GB files stream.
import { createHash } from 'node:crypto';
import { INLINE_MAX, READ_SKEW } from '../fs/hash-pipeline.ts';
import type { FileSystem, TempFile } from '../fs/types.ts';
import type { LoggedOp, Store } from '../log/store.ts';
import { sameContent } from '../model/version.ts';
import type { Block, Content, Dot, Version } from '../proto/types.ts';
import type { Logger } from '../util/logger.ts';
import type { LocalBlocks, TrustedRun } from './local-blocks.ts';
import { LIMITS } from './validate.ts';

export interface BlockFetcher {
  /** The block's bytes from some peer, verified against its hash, or null if no peer has it. */
  fetch(block: Block, pathHint: string): Promise<Uint8Array | null>;
  /**
   * Blocks that follow each other in the file, in one piece from a peer whose own index
   * vouches for all of them (each verified), or null: then they are fetched one by one.
   */
  fetchRun(blocks: readonly Block[], pathHint: string): Promise<Uint8Array | null>;
}

export interface FillStats {
  localBytes: number;
  remoteBytes: number;
}

export class ContentUnavailableError extends Error {
  readonly code = 'ERR_CONTENT_UNAVAILABLE';
  constructor(readonly path: string) {
    super(`${path}: content not available from any peer (the source changed); waiting for a newer version`);
  }
}

/**
 * Bytes of remote blocks in flight. Runs of 1 MiB fill it (block by block, the count bound
 * held it near 4 MiB): at 16 MiB the sender's malloc heap peaked 30 MiB higher during a
 * 512 MiB transfer, and at 8 both daemons peaked ~13 MiB higher than at 4, for a new
 * 512 MiB file ~3% sooner on loopback (6 transfers each; bench/README.md).
 */
const WINDOW_BYTES = 4 * 1024 * 1024;
const WINDOW_BLOCKS = 64;
/**
 * Runs of local blocks in flight: a run is read from the page cache in-line and written on
 * the thread pool, so a few keep the pool busy; each is a 1 MiB buffer.
 */
const LOCAL_WINDOW_BYTES = 4 * 1024 * 1024;
/** Largest run of local blocks read and written in one piece. */
const RUN_BYTES = 1024 * 1024;

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function verify(data: Uint8Array, block: Block): boolean {
  return data.length === block.length && sha256(data).equals(block.hash);
}

/**
 * Reads logged operations for what they hold (a patch base's block list, a small file's
 * bytes). One that cannot be read (a damaged record) is as good as absent, which every
 * caller can do without; logged as `cannot read <what>`, since the log itself is damaged.
 */
export function loggedOpReader(
  store: Pick<Store, 'getOp'>,
  logger: Logger,
  what: string,
): (dot: Dot) => LoggedOp | null {
  return (dot) => {
    try {
      return store.getOp(dot);
    } catch (err) {
      logger.warn(`cannot read ${what}`, { op: `${dot.origin}:${dot.seq}`, error: String(err) });
      return null;
    }
  };
}

/**
 * A version's content with its inline bytes, taken from the operation that wrote it: stored
 * heads name small files by hash only (log/store.ts), and the operation is the one place the
 * bytes are kept. Without them (a version a rename moved, an unreadable record: `getOp`
 * answers null) the content is assembled from blocks like any other.
 */
export function withLoggedBytes(version: Version, getOp: (dot: Dot) => LoggedOp | null): Content | null {
  const c = version.content;
  if (!c || c.size === 0 || c.inlineData.length === c.size) return c;
  // Only files this small have their bytes in their operation (a peer inlining more is
  // within the protocol, and is fetched like any other): reading and decoding every larger
  // file's operation from the log found nothing (a 512 MiB file's lists ~6,700 blocks).
  if (c.size > INLINE_MAX) return c;
  const logged = getOp(version.dot)?.op.content ?? null;
  if (!logged || logged.inlineData.length !== c.size || !sameContent(logged, c)) return c;
  return { ...c, inlineData: logged.inlineData };
}

export class ContentAssembler {
  constructor(
    private readonly local: LocalBlocks,
    private readonly remote: BlockFetcher,
  ) {}

  /**
   * Write `content` into `tmp`. `near` lists files likely to share blocks (the file's
   * previous version), tried before the global block index.
   */
  async fill(
    tmp: TempFile,
    path: string,
    content: Content,
    near: readonly string[] = [],
  ): Promise<FillStats> {
    const stats: FillStats = { localBytes: 0, remoteBytes: 0 };
    if (content.inlineData.length === content.size && content.size > 0) {
      const b = content.blocks[0];
      if (b && !verify(content.inlineData, b)) throw new ContentUnavailableError(path);
      await tmp.write(content.inlineData, 0);
      return stats;
    }
    const hints = [...near];
    // One waiter woken as each block settles (a Promise.race over the whole window would
    // subscribe to every block in flight once per block: quadratic in the window).
    let inFlight = 0;
    let bytesInFlight = 0;
    let failed: unknown = null;
    let wake: (() => void) | null = null;
    const settled = () => new Promise<void>((resolve) => (wake = resolve));
    const over = (next: number, blocks: number, bytes: number) =>
      inFlight > 0 && (inFlight >= blocks || bytesInFlight + next > bytes);
    const blocks = content.blocks;
    // Run buffers written out come back here for the next run (a 512 MiB file: at most a
    // window's worth allocated, not one per MiB, each zeroed and then garbage).
    const spare: Uint8Array[] = [];
    for (let i = 0; i < blocks.length && !failed; ) {
      // Blocks this disk holds back to back in a trusted file (the old version, after an
      // edit) go as one read and one write: block by block, the ~8,000 of a 512 MiB file
      // were two syscalls and a buffer each.
      const run = await this.local.trustedRun(blocks, i, hints, RUN_BYTES);
      // Blocks no file here is known to hold, back to back: one request for all of them.
      const remote = run ? 0 : this.remoteRun(blocks, i, hints);
      const unit = run ? blocks.slice(i, i + run.count) : blocks.slice(i, i + Math.max(1, remote));
      let bytes = 0;
      for (const b of unit) bytes += b.length;
      i += unit.length;
      // Once the window is full, refill only when half of it has settled: the requests then
      // leave in bursts, one socket write each (the link corks a turn's frames), not one
      // write per block.
      const cap = run ? LOCAL_WINDOW_BYTES : WINDOW_BYTES;
      if (over(bytes, WINDOW_BLOCKS, cap)) {
        while (over(bytes, WINDOW_BLOCKS / 2 + 1, cap / 2)) await settled();
      }
      if (failed) break;
      bytesInFlight += bytes;
      inFlight++;
      const work = run
        ? this.fromRun(tmp, path, unit, run, hints, stats, spare)
        : remote > 1
          ? this.fromRemoteRun(tmp, path, unit, hints, stats)
          : this.one(tmp, path, unit[0]!, hints, stats);
      void work
        .catch((err: unknown) => {
          failed ??= err;
        })
        .finally(() => {
          bytesInFlight -= bytes;
          inFlight--;
          const w = wake;
          wake = null;
          w?.();
        });
    }
    while (inFlight > 0) await settled();
    if (failed) throw failed;
    return stats;
  }

  /**
   * How many blocks from `blocks[from]` on no hinted file and no index entry here holds,
   * within one remote run's bounds (0 if this disk may hold the first).
   */
  private remoteRun(blocks: readonly Block[], from: number, hints: readonly string[]): number {
    let n = 0;
    let bytes = 0;
    for (let j = from; j < blocks.length && n < LIMITS.runBlocks; j++) {
      const b = blocks[j]!;
      if (bytes + b.length > LIMITS.runBytes || this.local.mayHave(b, hints)) break;
      bytes += b.length;
      n++;
    }
    return n;
  }

  /** A run of blocks from a peer in one piece; block by block if no peer serves it whole. */
  private async fromRemoteRun(
    tmp: TempFile,
    path: string,
    blocks: Block[],
    hints: string[],
    stats: FillStats,
  ): Promise<void> {
    const data = await this.remote.fetchRun(blocks, path); // verified by the fetcher
    if (data) {
      stats.remoteBytes += data.length;
      await tmp.write(data, blocks[0]!.offset);
      return;
    }
    // Settled only once every block's work has ended (the window counts the run as one).
    const done = await Promise.allSettled(blocks.map((b) => this.one(tmp, path, b, hints, stats)));
    for (const d of done) if (d.status === 'rejected') throw d.reason;
  }

  /** A run of local blocks in one piece; block by block (each verified) if its file changed. */
  private async fromRun(
    tmp: TempFile,
    path: string,
    blocks: Block[],
    run: TrustedRun,
    hints: string[],
    stats: FillStats,
    spare: Uint8Array[],
  ): Promise<void> {
    // READ_SKEW: see fs/hasher.ts (where in its page a large read lands matters here).
    const whole = spare.pop() ?? new Uint8Array(new ArrayBuffer(READ_SKEW + RUN_BYTES), READ_SKEW, RUN_BYTES);
    try {
      const buf = whole.subarray(0, run.bytes);
      if (await this.local.readRun(run, buf)) {
        stats.localBytes += run.bytes;
        await tmp.write(buf, blocks[0]!.offset, true);
        return;
      }
    } finally {
      spare.push(whole);
    }
    for (const b of blocks) await this.one(tmp, path, b, hints, stats);
  }

  private async one(
    tmp: TempFile,
    path: string,
    block: Block,
    hints: string[],
    stats: FillStats,
  ): Promise<void> {
    const local = await this.local.read(block, hints);
    if (local) {
      stats.localBytes += block.length;
      await tmp.write(local, block.offset, true);
      return;
    }
    const data = await this.remote.fetch(block, path); // verified by the fetcher
    if (!data) throw new ContentUnavailableError(path);
    stats.remoteBytes += block.length;
    await tmp.write(data, block.offset);
  }
}

/** Bytes [offset, offset+length) of a file, or null if it is gone or shorter now. */
export async function readRange(
  fs: FileSystem,
  path: string,
  offset: number,
  length: number,
): Promise<Uint8Array | null> {
  let h: Awaited<ReturnType<FileSystem['openRead']>> | null = null;
  try {
    h = await fs.openRead(path);
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await h.read(buf, got, length - got, offset + got);
      if (n === 0) return null;
      got += n;
    }
    return buf;
  } catch {
    return null;
  } finally {
    await h?.close().catch(() => {});
  }
}
