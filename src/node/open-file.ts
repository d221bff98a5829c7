// A file LocalBlocks keeps open to read blocks from: its handle, the stat it was opened
// with (a read is trusted only while the file still has it), and the blocks its index
// entry vouches for, at their offsets.
import type { FileSystem, ReadHandle, Stat } from '../fs/types.ts';
import type { Store } from '../log/store.ts';
import type { FileEntry } from '../proto/types.ts';
import type { Env } from '../util/env.ts';
import { hexOf } from '../util/hex.ts';
import { statMatches } from './observe.ts';

export interface OpenFile {
  handle: ReadHandle;
  stat: Stat;
  /** Block hash (hex) → offset, from the index entry; empty if the entry does not match the disk. */
  trusted: Map<string, number>;
  usedMs: number;
  /** Reads and stats under way through the handle: it is closed only once none is. */
  users: number;
  dropped: boolean;
}

/** Open `path` and take its stat and its index entry's blocks; null if it cannot be opened or stat'ed. */
export async function openForBlocks(
  fs: FileSystem,
  store: Store,
  env: Env,
  path: string,
): Promise<OpenFile | null> {
  let handle: ReadHandle;
  try {
    handle = await fs.openRead(path);
  } catch {
    return null;
  }
  let stat: Stat;
  try {
    stat = await handle.stat();
  } catch {
    await handle.close().catch(() => {});
    return null;
  }
  const entry = store.getFile(path);
  return {
    handle,
    stat,
    trusted: trustedBlocks(stat, entry),
    usedMs: env.now(),
    users: 0,
    dropped: false,
  };
}

function trustedBlocks(stat: Stat, entry: FileEntry | null): Map<string, number> {
  const out = new Map<string, number>();
  if (!entry?.content || !statMatches(stat, entry)) return out;
  for (const b of entry.content.blocks) out.set(hexOf(b.hash), b.offset);
  return out;
}

export function sameStat(a: Stat, b: Stat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}
