// File contents of a reconcile round: each file is assembled into a temp file beside its
// target (local blocks first, the rest fetched), verified and fsynced outside the disk lock,
// in parallel; then the prepared files are committed in groups under the lock (re-check,
// rename into place, one index transaction), and each touched folder is fsynced once.
import { DIRECT_MIN } from '../fs/direct-write.ts';
import { countAsRead } from '../fs/hasher.ts';
import { parentOf } from '../fs/paths.ts';
import type { FileSystem, Stat, TempFile } from '../fs/types.ts';
import type { Store } from '../log/store.ts';
import { Txn } from '../log/txn.ts';
import { EntryType } from '../proto/types.ts';
import type { Logger } from '../util/logger.ts';
import type { Mutex } from '../util/mutex.ts';
import { type ContentAssembler, loggedOpReader, withLoggedBytes } from './content.ts';
import { type DiskSteps, entryFor, type ReconcileStats, statOf } from './disk-steps.ts';
import type { Action } from './plan.ts';
import { readBack } from './read-back.ts';

export interface Transfer {
  path: string;
  size: number;
  done: number;
}

export interface FileWriterOptions {
  fs: FileSystem;
  store: Store;
  logger: Logger;
  mutex: Mutex;
  assembler: ContentAssembler;
  stats: ReconcileStats;
  /** Parallel file transfers. */
  parallel?: number;
  stopped: () => boolean;
  /** A file could not be written: the reconciler decides when to try again. */
  failed: (a: Action, err: unknown, replan: Set<string>, mismatched: string[]) => void;
}

interface ReadyFile {
  a: Extract<Action, { kind: 'write' }>;
  tmp: TempFile;
  mismatched: string[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Files renamed into place at once within one group commit. */
const COMMIT_PARALLEL = 16;

export class FileWriter {
  /** Files being assembled, by path (for status). */
  readonly transfers = new Map<string, Transfer>();

  /** A small file's bytes come from the operation that wrote it (node/content.ts). */
  private readonly loggedOps;

  constructor(
    private readonly o: FileWriterOptions,
    private readonly steps: DiskSteps,
  ) {
    this.loggedOps = loggedOpReader(o.store, o.logger, "a small file's logged bytes");
  }

  /** Files: assemble in parallel outside the lock, commit each under it. */
  async writeFiles(actions: Action[], mismatched: string[], replan: Set<string>): Promise<void> {
    const parallel = this.o.parallel ?? 8;
    let next = 0;
    const worker = async () => {
      while (next < actions.length && !this.o.stopped()) {
        const a = actions[next++]!;
        if (a.kind !== 'write') continue;
        try {
          await this.writeFile(a, mismatched, replan);
        } catch (err) {
          this.o.failed(a, err, replan, mismatched);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, actions.length) }, worker));
  }

  private async writeFile(
    a: Extract<Action, { kind: 'write' }>,
    mismatched: string[],
    replan: Set<string>,
  ): Promise<void> {
    const { fs } = this.o;
    const content = withLoggedBytes(a.version, this.loggedOps);
    if (!content) return;
    if (!(await this.steps.check(a.path, a.expect, mismatched))) return;
    await this.steps.ensureParent(a.path, replan);
    const tmp: TempFile = await fs.createTemp(a.path, content.size);
    const transfer: Transfer = { path: a.path, size: content.size, done: 0 };
    this.transfers.set(a.path, transfer);
    try {
      const near = a.expect?.type === EntryType.File ? [a.path] : [];
      const st = await this.o.assembler.fill(tmp, a.path, content, near);
      this.o.stats.localBytes += st.localBytes;
      this.o.stats.remoteBytes += st.remoteBytes;
      // The slow part (fsync of data and metadata) outside the disk lock, in parallel.
      await tmp.prepare({ mode: a.version.mode & 0o777, mtimeMs: a.version.mtimeMs });
      await this.submit({ a, tmp, mismatched });
      if (st.remoteBytes >= DIRECT_MIN) this.warmUp(a.path);
    } catch (err) {
      await tmp.abort().catch(() => {});
      throw err;
    } finally {
      this.transfers.delete(a.path);
    }
  }

  /** The file being read back into the page cache, if any (one at a time). */
  private warming: Promise<unknown> | null = null;

  /**
   * Blocks from peers were written past the page cache (fs/direct-write.ts): read the file
   * back (node/read-back.ts) so that its next edit copies its blocks from memory, not from
   * the disk. By hand, the first 1 MiB overwrite after a new 512 MiB file took the receiver
   * 1.29-1.43 s, the next ones 0.5-0.6 s (the bench's own check, which reads every file it
   * waits for, hid it). Stops once another file is being written, not for this one: its
   * next edit is what this is for.
   */
  private warmUp(path: string): void {
    if (this.warming) return;
    // Another file is being written when the transfers are more than this file's own.
    const busy = () => this.o.stopped() || this.transfers.size > (this.transfers.has(path) ? 1 : 0);
    this.warming = readBack(this.o.fs, path, busy)
      .catch(() => {}) // only a cache's warmth is at stake
      .finally(() => {
        this.warming = null;
      });
  }

  private readonly ready: ReadyFile[] = [];
  private committing = false;

  /** Queue a prepared file for the next group commit; resolves once it is in place. */
  private submit(item: Omit<ReadyFile, 'resolve' | 'reject'>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ready.push({ ...item, resolve, reject });
      if (!this.committing) void this.commitGroups();
    });
  }

  /**
   * Group commit: every prepared file waiting goes in under one disk lock (re-check and
   * rename each, one index transaction), then each touched folder is fsynced once.
   */
  private async commitGroups(): Promise<void> {
    this.committing = true;
    try {
      while (this.ready.length) {
        const group = this.ready.splice(0);
        const outcome = new Map<ReadyFile, unknown>();
        const dirs = new Set<string>();
        await this.o.mutex.run(async () => {
          const txn = new Txn(this.o.store);
          const one = async (item: ReadyFile) => {
            try {
              const result = await this.commitOne(item);
              if (result) {
                txn.setFile(item.a.path, entryFor(result, item.a.headPath, item.a.version));
                dirs.add(parentOf(item.a.path));
                this.o.stats.written++;
                countAsRead(this.o.fs, item.a.path, result.size);
              }
              outcome.set(item, null);
            } catch (err) {
              outcome.set(item, err);
            }
          };
          // A file replacing a folder clears that folder first: those go one at a time.
          // The others each rename into their own path, so they commit side by side: one
          // after another, their waits on the disk were the bottleneck of a burst of small
          // files (~320 files/s, ~860 side by side).
          const clearing = group.filter((i) => i.a.expect?.type === EntryType.Directory);
          for (const item of clearing) await one(item);
          const rest = group.filter((i) => i.a.expect?.type !== EntryType.Directory);
          let next = 0;
          const worker = async () => {
            while (next < rest.length) await one(rest[next++]!);
          };
          await Promise.all(Array.from({ length: Math.min(COMMIT_PARALLEL, rest.length) }, worker));
          await txn.commit(false);
        });
        this.o.logger.debug('written', { n: group.length, first: group[0]?.a.path });
        await Promise.all([...dirs].map((d) => this.o.fs.fsyncDir(d).catch(() => {})));
        for (const item of group) {
          const err = outcome.get(item);
          if (err) item.reject(err);
          else item.resolve();
        }
      }
    } finally {
      this.committing = false;
    }
  }

  private async commitOne({ a, tmp, mismatched }: ReadyFile): Promise<Stat | null> {
    if (a.expect?.type === EntryType.Directory) {
      if (!(await this.steps.check(a.path, a.expect, mismatched))) {
        await tmp.abort();
        return null;
      }
      await this.steps.clear(a.path, a.expect);
    }
    const expect = a.expect?.type === EntryType.Directory ? null : statOf(a.expect);
    try {
      return await tmp.commit(a.path, {
        mode: a.version.mode & 0o777,
        mtimeMs: a.version.mtimeMs,
        expect,
        syncDir: false,
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_TARGET_CHANGED') {
        mismatched.push(a.path); // the local change wins the race; it is recorded, then resolved
        return null;
      }
      throw err;
    }
  }
}
