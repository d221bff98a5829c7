// What the scanner and watcher skip: our own names always (state folder, temp files), and
// whatever the folder's .resonateignore says (gitignore syntax, via the `ignore` package).
// The rules are read from the folder and can be reloaded when that file changes.
import ignore, { type Ignore } from 'ignore';
import { IGNORE_FILE, isOwnName } from './paths.ts';

export interface IgnoreRules {
  /** True if the relative path (file or directory) is not synced. */
  ignores(path: string, isDir: boolean): boolean;
  /** The patterns in force (for status and logs). */
  readonly patterns: readonly string[];
}

export function parseIgnoreFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Not synced unless .resonateignore says otherwise (`!pattern`): editors' temp and lock
 * files, which are written, renamed away or deleted within moments and mean nothing to a peer.
 */
export const DEFAULT_IGNORES = ['.goutputstream-*', '.*.swp', '.*.swx', '.*.swo', '.#*', '.~lock.*#', '~$*'];

export function createIgnoreRules(patterns: readonly string[] = []): IgnoreRules {
  const matcher: Ignore = ignore().add([...DEFAULT_IGNORES, ...patterns]);
  return {
    patterns,
    ignores(path, isDir) {
      if (path === '' || path === IGNORE_FILE) return false;
      if (isOwnName(path)) return true;
      return matcher.ignores(isDir ? `${path}/` : path);
    },
  };
}

export { IGNORE_FILE };
