// chokidar 5 behind the Watcher interface. It keeps an fs.watch (an inotify watch) on every
// file and folder, so it is meant for small folders (see index.ts for the measured choice).
// No atomic-write or write-finish delays: the node core coalesces and re-stats on its own.
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type EmitArgsWithName, type FSWatcher, watch } from 'chokidar';
import { isOwnName } from '../paths.ts';
import {
  toWatchError,
  WatchError,
  type WatchEventKind,
  type Watcher,
  type WatcherFactory,
  type WatchOptions,
} from './types.ts';

type ChokidarEvent = EmitArgsWithName[0];

// How long to wait for chokidar to set its watch on a new folder before rescanning anyway.
const RESCAN_POLL_MS = 2;
const RESCAN_MAX_POLLS = 1000;

const KINDS: Partial<Record<ChokidarEvent, WatchEventKind>> = {
  add: 'add',
  change: 'change',
  unlink: 'unlink',
  addDir: 'addDir',
  unlinkDir: 'unlinkDir',
};

class ChokidarWatcher implements Watcher {
  readonly backend = 'chokidar';
  private readonly fsw: FSWatcher;
  private readonly started: Promise<void>;
  private closed = false;
  private limitReported = false;

  constructor(private readonly opts: WatchOptions) {
    this.fsw = watch(opts.root, {
      persistent: true,
      ignoreInitial: true,
      atomic: false,
      awaitWriteFinish: false,
      followSymlinks: false,
      usePolling: false,
      // Unreadable entries are still paths the core should hear about (it reports the error).
      ignorePermissionErrors: true,
      ignored: (abs: string, stats?: Stats) => this.isIgnored(abs, stats),
    });
    this.fsw.on('all', (event, abs) => this.onEvent(event, abs));
    // chokidar drops a 'change' whose mtime did not move (a chmod): pass the raw fs.watch
    // event on as 'unknown' so the node re-stats the path itself.
    this.fsw.on('raw', (raw: string, evPath: string, details: unknown) =>
      this.onRaw(raw, evPath, (details as { watchedPath?: string } | null)?.watchedPath),
    );
    this.fsw.on('error', (err) => this.onChokidarError(err));
    this.started = this.start();
    this.started.catch(() => {}); // surfaced through ready()
  }

  ready(): Promise<void> {
    return this.started;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.fsw.close();
  }

  private async start(): Promise<void> {
    // chokidar waits silently for a missing root to appear; we want to hear about it.
    const st = await lstat(this.opts.root).catch((err: unknown) => {
      throw toWatchError(err, this.opts.root);
    });
    if (!st.isDirectory()) {
      throw new WatchError('ENOTDIR', this.opts.root, `cannot watch ${this.opts.root}: not a directory`);
    }
    await new Promise<void>((resolve) => this.fsw.once('ready', resolve));
  }

  /** Relative '/'-separated path, or null for a path outside the root. */
  private rel(abs: string): string | null {
    const r = relative(this.opts.root, abs);
    if (r === '') return '';
    if (r === '..' || r.startsWith(`..${sep}`)) return null;
    return sep === '/' ? r : r.split(sep).join('/');
  }

  private isIgnored(abs: string, stats: Stats | undefined): boolean {
    const rel = this.rel(abs);
    if (rel === null || rel === '') return false;
    if (stats !== undefined) return this.isIgnoredRel(rel, stats.isDirectory());
    if (isOwnName(rel)) return true;
    // chokidar asks once before it stats: skip only what is ignored either way, and let the
    // call with stats decide the rest (a folder-only rule must not drop a file's events).
    return this.opts.ignored(rel, false) && this.opts.ignored(rel, true);
  }

  private isIgnoredRel(rel: string, isDir: boolean): boolean {
    return isOwnName(rel) || this.opts.ignored(rel, isDir);
  }

  private onEvent(event: ChokidarEvent, abs: string): void {
    if (this.closed) return;
    const kind = KINDS[event];
    const path = this.rel(abs);
    if (kind === undefined || path === null) return;
    this.opts.onEvents([{ path, kind }]);
    if (kind === 'addDir') this.rescanWhenWatched(abs, 0);
  }

  private onRaw(raw: string, evPath: string, watchedPath: string | undefined): void {
    if (this.closed || raw !== 'change' || !evPath || !watchedPath) return;
    // A file's own watch reports its base name; a folder's watch the child's name.
    const candidates = watchedPath.endsWith(`/${evPath}`)
      ? [watchedPath, join(watchedPath, evPath)]
      : [join(watchedPath, evPath)];
    for (const abs of candidates) {
      const path = this.rel(abs);
      if (path !== null && !this.isIgnoredRel(path, false)) this.opts.onEvents([{ path, kind: 'unknown' }]);
    }
  }

  /**
   * chokidar lists a new folder before it watches it, so whatever lands in between is never
   * reported (paulmillr/chokidar#1112, #1471). Once its watch is set (its closer is
   * registered), list the folder again: anything new from then on chokidar sees itself.
   */
  private rescanWhenWatched(abs: string, polls: number): void {
    if (this.closed) return;
    if (!this.fsw._closers.has(abs) && polls < RESCAN_MAX_POLLS) {
      setTimeout(() => this.rescanWhenWatched(abs, polls + 1), RESCAN_POLL_MS);
      return;
    }
    void readdir(abs, { withFileTypes: true }).then(
      (entries) => {
        if (this.closed) return;
        const known = this.fsw._watched.get(abs);
        for (const e of entries) {
          const child = join(abs, e.name);
          const rel = this.rel(child);
          const isDir = e.isDirectory();
          if (rel === null || this.isIgnoredRel(rel, isDir)) continue;
          this.opts.onEvents([{ path: rel, kind: isDir ? 'addDir' : 'add' }]);
          // A folder chokidar never saw has no watch: hand it over, then list it the same way.
          if (isDir && known?.has(e.name) !== true) {
            this.fsw.add(child);
            this.rescanWhenWatched(child, 0);
          }
        }
      },
      () => {}, // gone again: chokidar reports that
    );
  }

  private onChokidarError(err: unknown): void {
    if (this.closed) return;
    const path = (err as NodeJS.ErrnoException | null)?.path ?? this.opts.root;
    const e = toWatchError(err, path);
    // Past the limit every further file fails the same way: one report says it all.
    if (e.code === 'ENOSPC' || e.code === 'EMFILE') {
      if (this.limitReported) return;
      this.limitReported = true;
    }
    this.opts.onError(e);
  }
}

export const chokidarWatcher: WatcherFactory = (opts) => new ChokidarWatcher(opts);
