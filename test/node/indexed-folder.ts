// A real folder on disk with a store in memory, and files indexed the way the node indexes
// them (their stat, a given block list): what LocalBlocks and BlockServer trust.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { DiskFs } from '../../src/fs/disk.ts';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';
import { Txn } from '../../src/log/txn.ts';
import { entryFor } from '../../src/node/disk-steps.ts';
import type { Content } from '../../src/proto/types.ts';
import { makeTempDir } from '../harness/tmp.ts';

/** A temp folder holding `files` (name → bytes), none indexed yet, and an empty store. */
export async function indexedFolder(prefix: string, files: Record<string, Uint8Array> = {}) {
  const root = await makeTempDir(prefix);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(root, name), data);
  const fs = new DiskFs(root);
  const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' }) as unknown as Db;
  const store = await Store.open(db, { random: randomBytes, nodeId: 'n' });
  return { root, fs, store };
}

/** Index `path` as the disk shows it now, with `content` as its block list. */
export async function indexFile(fs: DiskFs, store: Store, path: string, content: Content): Promise<void> {
  const st = await fs.lstat(path);
  if (!st) throw new Error(`${path}: not on disk`);
  const txn = new Txn(store);
  txn.setFile(path, { ...entryFor(st, path, null), content });
  await txn.commit();
}
