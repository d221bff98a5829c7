// The folder's ignore file, read into rules: at start-up, and again whenever it changes.
// No file (or not a regular file) means the default rules; at most 1 MiB of it is read.
import { createIgnoreRules, IGNORE_FILE, type IgnoreRules, parseIgnoreFile } from '../fs/ignore.ts';
import type { FileSystem } from '../fs/types.ts';
import { readRange } from './content.ts';

const MAX_IGNORE_FILE_BYTES = 1 << 20;

export async function loadIgnoreRules(fs: FileSystem): Promise<IgnoreRules> {
  const st = await fs.lstat(IGNORE_FILE);
  if (st?.kind !== 'file') return createIgnoreRules();
  const data = await readRange(fs, IGNORE_FILE, 0, Math.min(st.size, MAX_IGNORE_FILE_BYTES));
  return createIgnoreRules(parseIgnoreFile(Buffer.from(data ?? new Uint8Array()).toString('utf8')));
}
