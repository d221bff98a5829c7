// The operation log and its indexes in one LevelDB database (any abstract-level store:
// classic-level on disk for the daemon, memory-level in the simulator). Reads of single
// records are synchronous (getSync is ~100x faster than an awaited get here) and go through
// a small write-through cache (read-cache.ts); writes go through a Txn and land in one
// atomic, synced batch.
import {
  decodeFileEntry,
  decodeHead,
  decodeHeadKinds,
  decodeMemberSummary,
  decodeOperation,
  encodeMemberSummary,
} from '../proto/codec.ts';
import type { Clock, Dot, FileEntry, Head, Kind, MemberSummary, Operation } from '../proto/types.ts';
import { hexOf } from '../util/hex.ts';
import { BlockIndexWriter, type BlockLocation, decodeBlockLocation } from './block-index.ts';
import { K, keyPath, splitKey } from './keys.ts';
import { openLog, readMeta, type StoreOptions } from './log-identity.ts';
import { ReadCache } from './read-cache.ts';
import { openRecord, openText, sealRecord, sealText } from './record.ts';
import { type Db, writeOptions } from './store-db.ts';
import { WrittenKeys } from './written-keys.ts';

export interface LoggedOp {
  op: Operation;
  /** The encoded operation, as stored and as sent to peers. */
  bytes: Uint8Array;
}

export class Store {
  readonly db: Db;
  readonly nodeId: string;
  readonly logId: string;
  /** This replica's name in dots and clocks: "<node id>~<log id>". */
  readonly origin: string;
  private clockCache: Record<string, number>;
  private readonly cache = new ReadCache();
  /** Block index records written after their transaction (block-index.ts). */
  readonly blockIndex: BlockIndexWriter;
  private syncs = 0;
  hlc: number;

  /** While the log was empty when opened: every key written since (written-keys.ts). */
  private written: WrittenKeys | null;

  private constructor(
    db: Db,
    nodeId: string,
    logId: string,
    clock: Record<string, number>,
    hlc: number,
    empty: boolean,
  ) {
    this.db = db;
    this.nodeId = nodeId;
    this.logId = logId;
    this.origin = `${nodeId}~${logId}`;
    this.clockCache = clock;
    this.hlc = hlc;
    this.blockIndex = new BlockIndexWriter(db);
    this.written = empty ? new WrittenKeys() : null;
  }

  static async open(db: Db, opts: StoreOptions): Promise<Store> {
    const id = await openLog(db, opts);
    return new Store(db, id.nodeId, id.logId, id.clock, id.hlc, id.empty);
  }

  async close(): Promise<void> {
    await this.blockIndex.flush();
    if (this.db.status === 'open') await this.db.close();
  }

  /** What this log holds: for each origin, the highest sequence number (all below it are held too). */
  clock(): Clock {
    return { vv: { ...this.clockCache }, except: [] };
  }

  held(origin: string): number {
    return this.clockCache[origin] ?? 0;
  }

  /** Called by Txn after a successful commit, with what it wrote (null: deleted). */
  noteCommitted(clock: Record<string, number>, hlc: number, writes: Map<string, Uint8Array | null>): void {
    Object.assign(this.clockCache, clock);
    if (hlc > this.hlc) this.hlc = hlc;
    // Block index records are written by the thousand for a large file and rarely read
    // again: caching them would push out the heads and index entries read all the time.
    // Path history and refusals are only ever listed (never read through the cache, nor
    // looked up as absent): a folder rename writes 2,000 of them, each a cache insert (and
    // a later eviction) on the way from the commit to sending the operation. Operations
    // are read about once (a small file's content is in its operation): a 5,000-file burst
    // filled the cache's 4 MiB with them.
    const cached: [string, Uint8Array | null][] = [];
    writes.forEach((value, key) => {
      if (K.isListedOnly(key)) return;
      if (K.isBlock(key) || K.isOp(key)) this.cache.forget(key);
      else cached.push([key, value]);
      this.written?.add(key);
    });
    this.cache.setBatch(cached);
    if (this.written?.full) this.written = null;
  }

  /**
   * One record's stored value, through the read cache; `keep` false for records read about
   * once (operations), which are then not kept in it.
   */
  private read(key: string, keep = true): Uint8Array | undefined {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    if (this.written?.mayHave(key) === false) return undefined;
    const v = this.db.getSync(key);
    if (keep) this.cache.set(key, v ?? null);
    return v;
  }

  getOp(dot: Dot): LoggedOp | null {
    const key = K.op(dot.origin, dot.seq);
    const v = this.read(key, false);
    if (v === undefined) return null;
    const bytes = openRecord(key, v);
    return { op: decodeOperation(bytes), bytes };
  }

  /** Operations of one origin with seq > afterSeq, in order (the primitive of replication). */
  async *opsAfter(
    origin: string,
    afterSeq: number,
    limit = Number.POSITIVE_INFINITY,
  ): AsyncGenerator<LoggedOp> {
    let n = 0;
    for await (const [key, value] of this.db.iterator(K.opRange(origin, afterSeq))) {
      const bytes = openRecord(key, value);
      yield { op: decodeOperation(bytes), bytes };
      if (++n >= limit) return;
    }
  }

  async *allOps(): AsyncGenerator<LoggedOp> {
    for await (const [key, value] of this.db.iterator(K.allOps)) {
      const bytes = openRecord(key, value);
      yield { op: decodeOperation(bytes), bytes };
    }
  }

  /** Dots of the operations that touched a path, oldest first per origin. */
  async pathHistory(path: string): Promise<Dot[]> {
    const out: Dot[] = [];
    for await (const key of this.db.keys(K.pathOps(path))) {
      const [, origin, seq] = splitKey(key);
      out.push({ origin: origin!, seq: Number.parseInt(seq!, 16) });
    }
    return out;
  }

  getHead(path: string): Head | null {
    const key = K.head(path);
    const v = this.read(key);
    return v === undefined ? null : decodeHead(openRecord(key, v));
  }

  async *heads(range: { gt: string; lt: string } = K.allHeads): AsyncGenerator<[string, Head]> {
    for await (const [key, value] of this.db.iterator(range))
      yield [keyPath(key), decodeHead(openRecord(key, value))];
  }

  /** The kind of each version in a path's head, decoding nothing else (none: no head). */
  kindsAt(path: string): Kind[] {
    const key = K.head(path);
    const v = this.read(key);
    return v === undefined ? [] : decodeHeadKinds(openRecord(key, v));
  }

  /** Every path with a head and the kind of each of its versions (cheaper than heads()). */
  async *headKinds(): AsyncGenerator<[string, Kind[]]> {
    for await (const [key, value] of this.db.iterator(K.allHeads))
      yield [keyPath(key), decodeHeadKinds(openRecord(key, value))];
  }

  /** Disk paths where conflict copies of this synced path are kept. */
  copiesOf(headPath: string): string[] {
    const key = K.copies(headPath);
    const v = this.read(key);
    return v === undefined ? [] : openText(key, v).split('\x00');
  }

  liveChildren(dir: string): number {
    const key = K.liveChildren(dir);
    const v = this.read(key);
    return v === undefined ? 0 : Number(openText(key, v));
  }

  getFile(path: string): FileEntry | null {
    const key = K.file(path);
    const v = this.read(key);
    return v === undefined ? null : decodeFileEntry(openRecord(key, v));
  }

  async *files(range: { gt: string; lt: string } = K.allFiles): AsyncGenerator<[string, FileEntry]> {
    for await (const [key, value] of this.db.iterator(range)) {
      yield [keyPath(key), decodeFileEntry(openRecord(key, value))];
    }
  }

  /**
   * Indexed paths in a range (the entries below a folder), from the keys alone, read in
   * batches of 1,000: a folder rename lists its 1,000 entries several times, and an async
   * iterator spent a few promises and objects on each key (~15 MiB of a rename's 60 MiB of
   * allocations on the sender).
   */
  async filePaths(range: { gt: string; lt: string }): Promise<string[]> {
    const keys = await this.db.keys(range).all();
    return keys.map(keyPath);
  }

  /** Nothing is indexed (a first start). */
  async indexEmpty(): Promise<boolean> {
    for await (const _ of this.db.keys({ ...K.allFiles, limit: 1 })) return false;
    return true;
  }

  /** No path has a head: nothing was ever recorded or received. */
  async headsEmpty(): Promise<boolean> {
    for await (const _ of this.db.keys({ ...K.allHeads, limit: 1 })) return false;
    return true;
  }

  /** The indexed path that last held this inode (rename detection). */
  pathOfInode(ino: number): string | null {
    const key = K.inode(ino);
    const v = this.read(key);
    return v === undefined ? null : openText(key, v);
  }

  /** A local file that held a block with this hash when it was indexed (verify before use). */
  blockLocation(hash: Uint8Array): BlockLocation | null {
    const hex = hexOf(hash);
    const pending = this.blockIndex.get(hex);
    if (pending !== undefined) return pending;
    // Not through the read cache: the block index writer does not go through it, and
    // these records are rarely read twice.
    const key = K.block(hex);
    const v = this.db.getSync(key);
    return v === undefined ? null : decodeBlockLocation(key, v);
  }

  async refusals(): Promise<{ dot: Dot; path: string }[]> {
    const out: { dot: Dot; path: string }[] = [];
    for await (const key of this.db.keys(K.allRefusals)) {
      const [origin, seq, path] = splitKey(key);
      out.push({ dot: { origin: origin!, seq: Number.parseInt(seq!, 16) }, path: path! });
    }
    return out;
  }

  async members(): Promise<MemberSummary[]> {
    const out: MemberSummary[] = [];
    for await (const [key, value] of this.db.iterator(K.allMembers)) {
      out.push(decodeMemberSummary(openRecord(key, value)));
    }
    return out;
  }

  async putMember(m: MemberSummary): Promise<void> {
    await this.db.put(K.member(m.nodeId), sealRecord(encodeMemberSummary(m)));
  }

  /** Make every write so far durable (one tiny synced batch fsyncs LevelDB's journal). */
  async sync(): Promise<void> {
    this.syncs++;
    await this.db.batch(
      [{ type: 'put', key: K.meta('synced'), value: sealText(String(this.syncs)) }],
      writeOptions(true),
    );
  }

  getMeta(name: string): string | null {
    return readMeta(this.db, name);
  }

  async setMeta(name: string, value: string): Promise<void> {
    await this.db.put(K.meta(name), sealText(value), writeOptions(true));
  }
}
