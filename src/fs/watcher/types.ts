// A watcher reports that something may have changed at a path; the node core always
// re-stats before acting, so backends need not be exact about what happened.
// Backends: chokidar (default for small folders) and one fs.watch per directory.

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
  onError: (err: Error) => void;
}

export interface Watcher {
  readonly backend: string;
  /** Resolves once the whole tree is being watched. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export type WatcherFactory = (opts: WatchOptions) => Watcher;
