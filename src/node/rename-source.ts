// Rename detection for the recorder: the indexed path an observed one was renamed from had
// its inode (or, in a full scan, a file with its content), is of the same type, is no
// conflict copy (those move as new files) and is known to be absent now.
import { isWithin } from '../fs/paths.ts';
import type { Txn } from '../log/txn.ts';
import { EntryType } from '../proto/types.ts';
import type { Observation } from './observe.ts';

/** The indexed path this observation was renamed from, if any. */
export function renameSourceOf(
  txn: Txn,
  obs: Observation,
  gone: Set<string>,
  byContent: boolean,
): string | null {
  const s = obs.stat!;
  const entry = txn.getFile(obs.path);
  if (entry && entry.ino === s.ino) return null;
  const byInode = txn.pathOfInode(s.ino);
  const candidates = byInode !== null ? [byInode] : [];
  if (byContent && s.kind === 'file' && obs.content && obs.content.size > 0) {
    for (const g of gone) {
      const e = txn.getFile(g);
      if (e?.content && e.type === EntryType.File && sameBytesOf(e.content.digest, obs.content.digest)) {
        candidates.push(g);
      }
    }
  }
  for (const from of candidates) {
    if (from === obs.path || isWithin(obs.path, from)) continue;
    const e = txn.getFile(from);
    if (!e || e.headPath !== from) continue; // conflict copies move as new files
    if (
      e.type !==
      (s.kind === 'file' ? EntryType.File : s.kind === 'dir' ? EntryType.Directory : EntryType.Link)
    )
      continue;
    if (!gone.has(from)) continue; // still there (a hard link or a copy), or not known absent
    return from;
  }
  return null;
}

/** Both digests are there and equal. */
export function sameBytesOf(a: Uint8Array | undefined | null, b: Uint8Array | undefined | null): boolean {
  return !!a && !!b && Buffer.compare(a, b) === 0;
}
