// The block index ("b!<hash>" → a local file, offset and length that held the block) is a
// hint: whoever reads a block through it verifies the bytes (local-blocks.ts), so a stale
// or missing record costs a network fetch, never a wrong byte. That lets a large file's
// records (27,000 for 2 GiB: ~0.15 s of the recording's main thread, and their share of
// its batch and memtable) leave the transaction that records the file: the file's
// operation is durable and sent sooner, and they are written afterwards, unsynced, a chunk at a
// time, by this one writer. Until written they are served from `pending`, so readers see
// them at once. `pending` holds only the latest record per hash, and this writer is the only
// one while any is pending (a transaction puts its few records in its own batch only when
// nothing is: see Txn.commit), so what lands is always the latest.
// A crash, or a batch that fails, loses what was pending: those blocks are then fetched
// instead of reused.
import { K } from './keys.ts';
import { openText, sealText } from './record.ts';
import type { Db } from './store-db.ts';

export interface BlockLocation {
  path: string;
  offset: number;
  length: number;
}

/** Records per deferred batch: small enough to keep the batch and memtable small. */
const CHUNK = 2048;

export function encodeBlockLocation(loc: BlockLocation): Uint8Array {
  return sealText(`${loc.path}\x00${loc.offset}\x00${loc.length}`);
}

export function decodeBlockLocation(key: string, value: Uint8Array): BlockLocation {
  const [path, offset, length] = openText(key, value).split('\x00');
  return { path: path!, offset: Number(offset), length: Number(length) };
}

export class BlockIndexWriter {
  /** Hash (hex) → the latest record to write (null: delete). */
  private readonly pending = new Map<string, BlockLocation | null>();
  private running: Promise<void> | null = null;

  constructor(private readonly db: Db) {}

  /** Nothing pending or being written: a transaction may write block records itself. */
  get idle(): boolean {
    return this.pending.size === 0 && this.running === null;
  }

  /** The pending record for a hash: a location, null (deleted), or undefined (none pending). */
  get(hex: string): BlockLocation | null | undefined {
    return this.pending.get(hex);
  }

  /** Queue records of a committed transaction; each replaces any pending one for its hash. */
  add(records: Map<string, BlockLocation | null>): void {
    // (forEach: no entry array per record, 27,000 for a 2 GiB file.)
    records.forEach((loc, hex) => {
      this.pending.set(hex, loc);
    });
    if (this.running === null && this.pending.size > 0) {
      // From the next turn: building the first batch here (1,000 records of a moved folder:
      // 5-8 ms) delayed whatever the committing caller does next, such as sending.
      this.running = new Promise((resolve) => setImmediate(resolve))
        .then(() => this.drain())
        .finally(() => {
          this.running = null;
        });
    }
  }

  /** Resolves once everything queued so far is written (or dropped after an error). */
  async flush(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const chunk: [string, BlockLocation | null][] = [];
      for (const entry of this.pending) {
        chunk.push(entry);
        if (chunk.length >= CHUNK) break;
      }
      try {
        const batch = this.db.batch();
        for (const [hex, loc] of chunk) {
          if (loc === null) batch.del(K.block(hex));
          else batch.put(K.block(hex), encodeBlockLocation(loc));
        }
        await batch.write();
      } catch {
        // Dropped: they are hints. A LevelDB that cannot write also fails the next
        // transaction's commit, which is reported there.
      }
      // Written (or given up): forget each unless a newer record for its hash came meanwhile.
      for (const [hex, loc] of chunk) if (this.pending.get(hex) === loc) this.pending.delete(hex);
    }
  }
}
