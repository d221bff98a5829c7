// A write transaction over the Store: reads see the transaction's own writes, and
// commit() writes everything (operations, clock, heads, file and block indexes, hybrid
// clock, refusals) as one atomic LevelDB batch, synced to disk before it resolves.
import type { FileEntry, Head, Operation } from '../proto/types.ts';
import { EntryType } from '../proto/types.ts';
import { K } from './keys.ts';
import { sealRecord, sealText } from './record.ts';
import { encodeStored, type Store, writeOptions } from './store.ts';

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

export class Txn {
  private readonly writes = new Map<string, Uint8Array | null>();
  private readonly heads = new Map<string, Head | null>();
  private readonly files = new Map<string, FileEntry | null>();
  private readonly clock: Record<string, number> = {};
  private hlc = 0;
  private committed = false;

  constructor(readonly store: Store) {}

  get size(): number {
    return this.writes.size;
  }

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
    const h = this.heads.get(path);
    return h !== undefined ? h : this.store.getHead(path);
  }

  setHead(path: string, head: Head | null): void {
    this.heads.set(path, head);
    this.writes.set(K.head(path), head ? encodeStored.head(head) : null);
  }

  getFile(path: string): FileEntry | null {
    const f = this.files.get(path);
    return f !== undefined ? f : this.store.getFile(path);
  }

  setFile(path: string, entry: FileEntry | null): void {
    const old = this.getFile(path);
    for (const [key] of blockKeys(path, old)) this.writes.set(key, null);
    for (const [key, value] of blockKeys(path, entry)) this.writes.set(key, value);
    this.files.set(path, entry);
    this.writes.set(K.file(path), entry ? encodeStored.file(entry) : null);
  }

  refuse(origin: string, seq: number, path: string): void {
    this.writes.set(K.refusal(origin, seq, path), sealText(''));
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
    if (this.writes.size === 0) return;
    const batch = [...this.writes].map(([key, value]) =>
      value === null ? { type: 'del' as const, key } : { type: 'put' as const, key, value },
    );
    await this.store.db.batch(batch, writeOptions(sync));
    this.store.noteCommitted(this.clock, this.hlc);
  }
}

function* blockKeys(path: string, entry: FileEntry | null): Generator<[string, Uint8Array]> {
  if (!entry || entry.type !== EntryType.File || !entry.content) return;
  for (const b of entry.content.blocks) {
    yield [K.block(Buffer.from(b.hash).toString('hex'), path), sealText(`${b.offset},${b.length}`)];
  }
}
