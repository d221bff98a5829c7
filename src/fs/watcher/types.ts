// A watcher reports that something may have changed at a path; the node core always
// re-stats before acting, so backends need not be exact about what happened.
// Backends: chokidar (default for small folders) and one fs.watch per directory.
import { readFileSync } from 'node:fs';

/**
 * 'unlinkDir' means the directory and everything below it is gone: a backend need not
 * report each descendant. 'addDir' for a directory that appears after ready() is followed
 * by events for what it already holds. Duplicates and spurious paths are allowed.
 */
export type WatchEventKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir' | 'unknown';

export interface WatchEvent {
  /** Relative to the watched root, '/'-separated ('' = the root itself). */
  path: string;
  kind: WatchEventKind;
}

export interface WatchOptions {
  /** Absolute path of the folder to watch. */
  root: string;
  /** True for relative paths to skip (state folder, temp files, .resonateignore matches). */
  ignored: (path: string, isDir: boolean) => boolean;
  /** Called with events as they arrive, in order; may be called with a batch. */
  onEvents: (events: WatchEvent[]) => void;
  /** Non-fatal problems (a folder that cannot be watched, a system limit); watching goes on. */
  onError: (err: Error) => void;
}

export interface Watcher {
  readonly backend: string;
  /** Resolves once the whole tree is being watched; rejects if the root cannot be watched. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export type WatcherFactory = (opts: WatchOptions) => Watcher;

/** A watching failure; `code` is the system error code (ENOSPC, EMFILE, ...) or ERR_WATCH_*. */
export class WatchError extends Error {
  constructor(
    readonly code: string,
    /** Absolute path concerned. */
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WatchError';
  }
}

function sysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Wrap a system error from watching `path`, saying which limit was hit and how to raise it. */
export function toWatchError(err: unknown, path: string): WatchError {
  if (err instanceof WatchError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code ?? 'ERR_WATCH_FAILED';
  const detail = err instanceof Error ? err.message : String(err);
  let msg = `cannot watch ${path}: ${detail}`;
  if (code === 'ENOSPC') {
    msg =
      `cannot watch ${path}: inotify watch limit reached (fs.inotify.max_user_watches = ` +
      `${sysctl('max_user_watches')}, shared by every process of this user). Raise it with ` +
      `"sudo sysctl fs.inotify.max_user_watches=1048576" (persist it in /etc/sysctl.d/), ` +
      `or use the native watcher backend, which needs one watch per folder instead of per file.`;
  } else if (code === 'EMFILE' || code === 'ENFILE') {
    msg =
      `cannot watch ${path}: too many open files or inotify instances (${code}; ` +
      `fs.inotify.max_user_instances = ${sysctl('max_user_instances')}, open files limit from ` +
      `"ulimit -n"). Raise "ulimit -n" or "sudo sysctl fs.inotify.max_user_instances=1024".`;
  }
  return new WatchError(code, path, msg, { cause: err });
}
