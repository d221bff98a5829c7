// Walking the synced folder: every entry with its lstat, never following symlinks,
// skipping ignored paths and names that cannot be synced (reported once each).
import type { IgnoreRules } from '../fs/ignore.ts';
import { pathProblem } from '../fs/paths.ts';
import type { FileSystem, Stat } from '../fs/types.ts';

export interface WalkOptions {
  ignore: IgnoreRules;
  /** Called for names that are skipped because they cannot be synced. */
  onSkip?: (path: string, reason: string) => void;
  /** Directories listed at once. */
  concurrency?: number;
  /** false: only the entries directly in `dir`. */
  recursive?: boolean;
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
      let entries: Awaited<ReturnType<FileSystem['readdirStat']>>;
      try {
        entries = await fs.readdirStat(d);
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_NOT_FOUND') return; // vanished meanwhile
        throw err;
      }
      for (const { name, stat: st } of entries) {
        const path = d === '' ? name : `${d}/${name}`;
        const isDir = st?.kind === 'dir';
        const problem = pathProblem(path);
        if (problem !== null) {
          if (!opts.ignore.ignores(path, isDir)) opts.onSkip?.(path, problem);
          continue;
        }
        if (opts.ignore.ignores(path, isDir)) continue;
        if (!st || st.kind === 'other') continue;
        out.set(path, st);
        if (isDir && opts.recursive !== false) queue.push(path);
      }
    };
    pump();
  });
  return out;
}
