// Plain helpers to populate a folder with reproducible content: bytes come from a seeded
// PRNG, so a failing test creates the very same files on the next run. Writes are direct
// (not atomic), the way a user's editor or `cp` would touch a synced folder.
import { chmod, mkdir, open, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRng } from './prng.ts';

/** Deterministic pseudo-random bytes for (seed, size). */
export function seededBytes(size: number, seed: number | string): Buffer {
  return createRng(seed).bytes(size);
}

export interface WriteOptions {
  /** Permission bits to set after writing (exactly: chmod, not filtered by the umask). */
  mode?: number;
}

/** Write bytes (or a string) at dir/rel, creating parent folders. Returns the absolute path. */
export async function writeBytes(
  dir: string,
  rel: string,
  data: Uint8Array | string,
  opts: WriteOptions = {},
): Promise<string> {
  const p = join(dir, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, data);
  if (opts.mode !== undefined) await chmod(p, opts.mode);
  return p;
}

/** Write `data` into an existing file at `position`, in place (no truncation), as an editor might. */
export async function writeAt(path: string, data: Uint8Array, position: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Rewrite an existing file in place with one positional write (no truncation first, then a
 * truncate to the new length if it shrank). A watcher then sees at most a mix of old and new
 * bytes, never a file cut short mid-write as writeFile's open-truncate-write in 512 KiB
 * pieces can show it.
 */
export async function overwriteInPlace(path: string, data: Uint8Array): Promise<void> {
  await writeAt(path, data, 0);
  await truncate(path, data.length);
}

const CHUNK = 1 << 20;

/**
 * Write size pseudo-random bytes at dir/rel, streamed in 1 MiB chunks so benchmark-sized
 * files do not sit in memory. The seed defaults to the relative path.
 */
export async function writeRandomFile(
  dir: string,
  rel: string,
  size: number,
  seed: number | string = rel,
  opts: WriteOptions = {},
): Promise<string> {
  const p = join(dir, rel);
  await mkdir(dirname(p), { recursive: true });
  const rng = createRng(seed);
  if (size <= CHUNK) {
    await writeFile(p, rng.bytes(size));
    if (opts.mode !== undefined) await chmod(p, opts.mode);
    return p;
  }
  const fh = await open(p, 'w');
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(CHUNK, size - done);
      await fh.write(rng.bytes(n));
      done += n;
    }
  } finally {
    await fh.close();
  }
  if (opts.mode !== undefined) await chmod(p, opts.mode);
  return p;
}

/** Create a symlink at dir/rel pointing at target (stored verbatim, not resolved). */
export async function writeSymlink(dir: string, rel: string, target: string): Promise<string> {
  const p = join(dir, rel);
  await mkdir(dirname(p), { recursive: true });
  await symlink(target, p);
  return p;
}

/** Remove dir/rel (file or folder), no error if it is missing. */
export async function removePath(dir: string, rel: string): Promise<void> {
  await rm(join(dir, rel), { recursive: true, force: true });
}
