// Walking the synced folder: every entry with its lstat, never following symlinks,
// skipping ignored paths and names that cannot be synced (reported once each).
import type { IgnoreRules } from '../fs/ignore.ts';
import { joinPath, pathProblem } from '../fs/paths.ts';
import type { FileSystem, Stat } from '../fs/types.ts';

export interface WalkOptions {
  ignore: IgnoreRules;
  /** Called for names that are skipped because they cannot be synced. */
  onSkip?: (path: string, reason: string) => void;
  /** Directories listed at once. */
  concurrency?: number;
  /** false: only the entries directly in `dir`. */
  recursive?: boolean;
  /**
   * false: regular files are listed by kind only (the listing's d_type), as UNSTATED_FILE,
   * without an lstat each. For a first scan, where every file is read anyway.
   */
  statFiles?: boolean;
}

/**
 * A regular file listed without its lstat. Every field but the kind is NaN, so it matches
 * no index entry (statMatches): an unstated file always counts as changed.
 */
export const UNSTATED_FILE: Stat = Object.freeze({
  kind: 'file',
  size: Number.NaN,
  mtimeMs: Number.NaN,
  ctimeMs: Number.NaN,
  ino: Number.NaN,
  mode: Number.NaN,
});

interface Listed {
  name: string;
  kind: Stat['kind'];
  /** null: vanished; undefined: to be taken once the path passed the checks. */
  stat: Stat | null | undefined;
}

/** A folder's entries: with their lstat, or (`statFiles` false) files as UNSTATED_FILE. */
async function listing(fs: FileSystem, dir: string, statFiles: boolean): Promise<Listed[]> {
  if (statFiles)
    return (await fs.readdirStat(dir)).map(({ name, stat }) => ({ name, kind: stat?.kind ?? 'other', stat }));
  return (await fs.readdir(dir)).map(({ name, kind }) => ({
    name,
    kind,
    stat: kind === 'file' ? UNSTATED_FILE : undefined,
  }));
}

/** Every path below `dir` (not `dir` itself) with its lstat. */
export async function walk(fs: FileSystem, dir: string, opts: WalkOptions): Promise<Map<string, Stat>> {
  const out = new Map<string, Stat>();
  const queue: string[] = [dir];
  const limit = opts.concurrency ?? 16;
  let active = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (queue.length === 0 && active === 0) return resolve();
      while (active < limit && queue.length) {
        const d = queue.shift()!;
        active++;
        listDir(d).then(
          () => {
            active--;
            pump();
          },
          (err: unknown) => reject(err),
        );
      }
    };
    const listDir = async (d: string) => {
      let entries: Listed[];
      try {
        entries = await listing(fs, d, opts.statFiles !== false);
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_NOT_FOUND') return; // vanished meanwhile
        throw err;
      }
      for (const { name, kind, stat } of entries) {
        const path = joinPath(d, name);
        const isDir = kind === 'dir';
        const problem = pathProblem(path);
        if (problem !== null) {
          if (!opts.ignore.ignores(path, isDir)) opts.onSkip?.(path, problem);
          continue;
        }
        if (opts.ignore.ignores(path, isDir)) continue;
        const st = stat === undefined ? await fs.lstat(path) : stat;
        if (!st || st.kind === 'other') continue;
        out.set(path, st);
        if (st.kind === 'dir' && opts.recursive !== false) queue.push(path);
      }
    };
    pump();
  });
  return out;
}
