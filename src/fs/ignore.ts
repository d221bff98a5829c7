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

/**
 * DEFAULT_IGNORES as one test of a single name: each of them is a slash-free glob, which
 * gitignore matches against every component of a path (an ignored folder takes its
 * contents along), case-insensitively as the `ignore` package does by default.
 */
const DEFAULT_NAME = /^(?:\.goutputstream-[^/]*|\.[^/]*\.sw[pxo]|\.#[^/]*|\.~lock\.[^/]*#|~\$[^/]*)$/i;

/** True if some component of the path is one of DEFAULT_IGNORES. */
export function defaultIgnores(path: string): boolean {
  let start = 0;
  for (;;) {
    const end = path.indexOf('/', start);
    const name = end < 0 ? path.slice(start) : path.slice(start, end);
    // Every default pattern starts with '.' or '~': most names are settled by one comparison.
    const c = name.charCodeAt(0);
    if ((c === 0x2e || c === 0x7e) && DEFAULT_NAME.test(name)) return true;
    if (end < 0) return false;
    start = end + 1;
  }
}

/**
 * The `ignore` package remembers the answer for every path it is asked about, and for each
 * parent, in two objects that are never emptied: a daemon watching 100,000 files held them
 * all. The matcher is rebuilt (a parse of the patterns) after this many questions.
 */
const MATCHER_CALLS = 20_000;

export function createIgnoreRules(patterns: readonly string[] = []): IgnoreRules {
  const all = [...DEFAULT_IGNORES, ...patterns];
  let matcher: Ignore = ignore().add(all);
  let calls = 0;
  const userIgnores = (path: string, isDir: boolean): boolean => {
    if (++calls > MATCHER_CALLS) {
      matcher = ignore().add(all);
      calls = 0;
    }
    return matcher.ignores(isDir ? `${path}/` : path);
  };
  return {
    patterns,
    ignores(path, isDir) {
      if (path === '' || path === IGNORE_FILE) return false;
      if (isOwnName(path)) return true;
      return patterns.length === 0 ? defaultIgnores(path) : userIgnores(path, isDir);
    },
  };
}

export { IGNORE_FILE };
