// The database a Store lives in: any abstract-level store with string keys and byte values
// (classic-level on disk for the daemon, memory-level in the simulator).
import type { AbstractBatchOptions, AbstractLevel } from 'abstract-level';

export type Db = AbstractLevel<string | Uint8Array, string, Uint8Array>;

/** classic-level's `sync` write option (fsync before resolving); other stores ignore it. */
export function writeOptions(sync: boolean): AbstractBatchOptions<string, Uint8Array> & { sync: boolean } {
  return { sync };
}
