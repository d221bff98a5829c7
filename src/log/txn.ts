// A write transaction over the Store: reads see the transaction's own writes, and
// commit() writes everything (operations, clock, heads, file and block indexes, hybrid
// clock, refusals) as one atomic LevelDB batch, synced to disk before it resolves.
import type { Block, FileEntry, Head, Operation } from '../proto/types.ts';
import { EntryType } from '../proto/types.ts';
import { hexOf } from '../util/hex.ts';
import { type BlockLocation, encodeBlockLocation } from './block-index.ts';
import { K } from './keys.ts';
import { sealRecord, sealText } from './record.ts';
import type { Store } from './store.ts';
import { writeOptions } from './store-db.ts';
import { encodeStored } from './stored-records.ts';

export class LogGapError extends Error {
  readonly code = 'ERR_LOG_GAP';
  constructor(
    readonly origin: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super(`operation ${origin}:${got} does not follow ${origin}:${expected - 1}`);
  }
}

/** Block index records a transaction writes in its own batch at most (see commit). */
const INLINE_BLOCKS = 64;

export class Txn {
  private readonly writes = new Map<string, Uint8Array | null>();
  private readonly heads = new Map<string, Head | null>();
  /** What this transaction read from the store, decoded (writes above take precedence). */
  private readonly readHeads = new Map<string, Head | null>();
  private readonly readFiles = new Map<string, FileEntry | null>();
  private readonly files = new Map<string, FileEntry | null>();
  private readonly clock: Record<string, number> = {};
  private hlc = 0;
  private committed = false;

  constructor(readonly store: Store) {}

  held(origin: string): number {
    return this.clock[origin] ?? this.store.held(origin);
  }

  /** Append the next operation of its origin; returns its encoded bytes. */
  appendOp(op: Operation, bytes: Uint8Array = encodeStored.op(op)): Uint8Array {
    const expected = this.held(op.origin) + 1;
    if (op.seq !== expected) throw new LogGapError(op.origin, expected, op.seq);
    this.writes.set(K.op(op.origin, op.seq), sealRecord(bytes));
    this.writes.set(K.clock(op.origin), sealText(String(op.seq)));
    this.clock[op.origin] = op.seq;
    return bytes;
  }

  /** Index that an operation touched a path (for `resonate log --path`). */
  notePath(path: string, op: Operation): void {
    this.writes.set(K.pathOp(path, op.origin, op.seq), sealText(''));
  }

  getHead(path: string): Head | null {
    return readThrough(this.heads, this.readHeads, path, (p) => this.store.getHead(p));
  }

  setHead(path: string, head: Head | null): void {
    this.heads.set(path, head);
    this.writes.set(K.head(path), head ? encodeStored.head(head) : null);
  }

  private readonly copies = new Map<string, string[]>();

  copiesOf(headPath: string): string[] {
    return this.copies.get(headPath) ?? this.store.copiesOf(headPath);
  }

  private setCopy(headPath: string, diskPath: string, present: boolean): void {
    const list = this.copiesOf(headPath).filter((p) => p !== diskPath);
    if (present) list.push(diskPath);
    this.copies.set(headPath, list);
    this.writes.set(K.copies(headPath), list.length ? sealText(list.join('\x00')) : null);
  }

  private readonly children = new Map<string, number>();

  liveChildren(dir: string): number {
    const n = this.children.get(dir);
    return n !== undefined ? n : this.store.liveChildren(dir);
  }

  setLiveChildren(dir: string, n: number): void {
    // Encoded at commit: a folder rename of 1,000 files changes each parent's count 1,000
    // times, and encoding each (~4 us, a record of garbage) showed in the profile.
    this.children.set(dir, n);
  }

  getFile(path: string): FileEntry | null {
    return readThrough(this.files, this.readFiles, path, (p) => this.store.getFile(p));
  }

  private readonly inodes = new Map<number, string | null>();

  pathOfInode(ino: number): string | null {
    const p = this.inodes.get(ino);
    return p !== undefined ? p : this.store.pathOfInode(ino);
  }

  setFile(path: string, entry: FileEntry | null): void {
    const old = this.getFile(path);
    this.moveBlockRecords(path, blocksOf(old), blocksOf(entry));
    if (old?.ino && this.pathOfInode(old.ino) === path) {
      this.inodes.set(old.ino, null);
      this.writes.set(K.inode(old.ino), null);
    }
    if (entry?.ino) {
      this.inodes.set(entry.ino, path);
      this.writes.set(K.inode(entry.ino), sealText(path));
    }
    if (old && old.headPath !== path) this.setCopy(old.headPath, path, false);
    if (entry && entry.headPath !== path) this.setCopy(entry.headPath, path, true);
    this.files.set(path, entry);
    this.writes.set(K.file(path), entry ? encodeStored.file(entry) : null);
  }

  /** Paths below a directory that this transaction wrote index entries for. */
  pendingFilesUnder(dir: string): string[] {
    return [...this.files.keys()].filter((p) => dir === '' || p.startsWith(`${dir}/`));
  }

  private readonly blocks = new Map<string, BlockLocation | null>();
  /** Blocks files lost (hash → those files): their records go at commit if they name one. */
  private readonly lost = new Map<string, string[]>();

  /**
   * Block index records for a file going from `before` to `after`. A block at the same offset
   * in both keeps its record, unread and unwritten: for a 1 MiB change to a 512 MiB file
   * that skips ~8,000 reads and writes of records (~100 ms of the recording). A record is a
   * hint (block-index.ts), so one left pointing elsewhere costs at most a fetch. A block
   * that is gone loses its record if the record names this file, which is looked up at
   * commit, and only if no file of the transaction took the block meanwhile: a folder
   * rename moves every block and looks up none.
   */
  private moveBlockRecords(path: string, before: Block[], after: Block[]): void {
    // (Indexed loops, and no bookkeeping of the other side when one is empty: a new 2 GiB
    // file's 27,000 blocks pass here before V8 has compiled this.)
    const wasAt = new Map<string, number>();
    for (let i = 0; i < before.length; i++) wasAt.set(hexOf(before[i]!.hash), before[i]!.offset);
    const kept = new Set<string>();
    for (let i = 0; i < after.length; i++) {
      const b = after[i]!;
      const hex = hexOf(b.hash);
      if (wasAt.size > 0) kept.add(hex);
      if (wasAt.get(hex) !== b.offset) this.blocks.set(hex, { path, offset: b.offset, length: b.length });
    }
    for (const hex of wasAt.keys()) {
      if (kept.has(hex)) continue;
      const mine = this.blocks.get(hex);
      if (mine === undefined) this.lost.set(hex, [...(this.lost.get(hex) ?? []), path]);
      else if (mine?.path === path) this.blocks.set(hex, null);
    }
  }

  /** The records of lost blocks that still name the file that lost them go. */
  private dropLostBlocks(): void {
    for (const [hex, paths] of this.lost) {
      if (this.blocks.has(hex)) continue; // a file of this transaction took it since
      const at = this.store.blockLocation(Buffer.from(hex, 'hex'))?.path;
      if (at !== undefined && paths.includes(at)) this.blocks.set(hex, null);
    }
  }

  refuse(origin: string, seq: number, path: string): void {
    this.writes.set(K.refusal(origin, seq, path), sealText(''));
  }

  /** The last hybrid timestamp issued or seen, including this transaction's. */
  get lastHlc(): number {
    return Math.max(this.hlc, this.store.hlc);
  }

  setHlc(ts: number): void {
    if (ts > this.hlc) {
      this.hlc = ts;
      this.writes.set(K.meta('hlc'), sealText(String(ts)));
    }
  }

  async commit(sync = true): Promise<void> {
    if (this.committed) throw new Error('transaction already committed');
    this.committed = true;
    // Block index records are hints (block-index.ts): a few go in this batch while no
    // deferred ones are pending (which keeps their order); many, or any while some are
    // pending, are written after it by the store's block index writer.
    this.dropLostBlocks();
    for (const [dir, n] of this.children)
      this.writes.set(K.liveChildren(dir), n > 0 ? sealText(String(n)) : null);
    const { blockIndex } = this.store;
    const inline = this.blocks.size <= INLINE_BLOCKS && blockIndex.idle;
    if (inline) {
      for (const [hex, loc] of this.blocks) this.writes.set(K.block(hex), loc && encodeBlockLocation(loc));
    }
    if (this.writes.size > 0) await this.write(sync);
    if (!inline) blockIndex.add(this.blocks);
  }

  private async write(sync: boolean): Promise<void> {
    // A chained batch: abstract-level's array form copies and re-validates every operation
    // in JavaScript, ~7x slower here (100,000 puts: 1.1 s against 0.16 s); it was 5 s of a
    // 100,000-file scan.
    // (forEach, not for-of: no entry array per record, ~10,000 of them for a folder rename.)
    const batch = this.store.db.batch();
    try {
      this.writes.forEach((value, key) => {
        if (value === null) batch.del(key);
        else batch.put(key, value);
      });
    } catch (err) {
      await batch.close();
      throw err;
    }
    await batch.write(writeOptions(sync));
    this.store.noteCommitted(this.clock, this.hlc, this.writes);
  }
}

/**
 * The transaction's own write of `path`, else what it read before, else a store read (kept).
 * Decoded once per transaction: recording or ingesting a change reads the same heads and
 * entries several times (a folder rename of 1,000 files decoded each moved head three times).
 */
function readThrough<T>(
  written: Map<string, T | null>,
  read: Map<string, T | null>,
  path: string,
  load: (path: string) => T | null,
): T | null {
  const w = written.get(path);
  if (w !== undefined) return w;
  const r = read.get(path);
  if (r !== undefined) return r;
  const v = load(path);
  read.set(path, v);
  return v;
}

function blocksOf(entry: FileEntry | null): Block[] {
  return entry && entry.type === EntryType.File && entry.content ? entry.content.blocks : [];
}
