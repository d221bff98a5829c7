// Leftover temp files from a crash (killed mid-transfer, power loss before commit) are
// never valid data: remove them all at startup. Works on any FileSystem; never follows
// symlinks because FileSystem.readdir reports links as 'link' and we only descend 'dir'.
import { checkFsPath, isTempName } from './fs-paths.ts';
import { isValidPath } from './paths.ts';
import { type DirEntry, type FileSystem, FsError } from './types.ts';

function gone(err: unknown): boolean {
  return err instanceof FsError && err.code === 'ERR_NOT_FOUND';
}

/** Delete every TEMP_PREFIX file below `dir`; returns the removed paths. */
export async function removeStaleTemps(fs: FileSystem, dir = ''): Promise<string[]> {
  const removed: string[] = [];
  let entries: DirEntry[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    if (gone(err)) return removed;
    throw err;
  }
  for (const entry of entries) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (isTempName(entry.name)) {
      if (entry.kind === 'dir' || !isFsPath(path)) continue; // not one of ours
      try {
        await fs.unlink(path);
        removed.push(path);
      } catch (err) {
        if (!gone(err)) throw err;
      }
    } else if (entry.kind === 'dir' && isValidPath(path)) {
      removed.push(...(await removeStaleTemps(fs, path)));
    }
  }
  return removed;
}

function isFsPath(path: string): boolean {
  try {
    checkFsPath(path);
    return true;
  } catch {
    return false;
  }
}
