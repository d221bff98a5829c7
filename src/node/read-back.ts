// Reading a file back into the page cache, for nobody in particular (file-writer.ts: a large
// file whose blocks were written past the page cache). The reads are in-line (fd-io.ts: fast
// from the disk too), with a turn of the event loop after each YIELD_BYTES: without one, a
// 512 MiB file was read in one macrotask (~0.8 s; a 1 KiB file sent right after waited
// 807-888 ms for it, now 53-79 ms). On the thread pool instead, the read-back took seconds
// and overlapped the next edits (the bench's in-place insertions: medians 1.4-2.0 s against
// 0.8 s).
import type { FileSystem } from '../fs/types.ts';

export const YIELD_BYTES = 8 << 20;
const READ_BYTES = 1 << 20;

/** Read `path` to its end, or until `stop()` says so (asked before each read); bytes read. */
export async function readBack(
  fs: Pick<FileSystem, 'openRead'>,
  path: string,
  stop: () => boolean,
): Promise<number> {
  const h = await fs.openRead(path);
  let at = 0;
  try {
    const buf = new Uint8Array(READ_BYTES);
    for (let n = 1, turn = YIELD_BYTES; n > 0 && !stop(); at += n) {
      n = await h.read(buf, 0, buf.length, at);
      if (at + n < turn) continue;
      turn += YIELD_BYTES;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await h.close();
  }
  return at;
}
