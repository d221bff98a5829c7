// Picks a watcher backend. Measurements behind the choice: bench/notes/watchers.md
// (`node --import tsx bench/watchers.ts`).
import { chokidarWatcher } from './chokidar.ts';
import { nativeWatcher } from './native.ts';
import type { Watcher, WatcherFactory, WatchOptions } from './types.ts';

export type WatcherKind = 'chokidar' | 'native' | 'auto';
export type BackendName = Exclude<WatcherKind, 'auto'>;

/**
 * 'auto' uses chokidar only for folders of fewer than this many entries (files + folders).
 * The design planned chokidar for small folders, but measured it wins at no size: at 1,000
 * files it is ~25x slower to be ready, ~30x slower to report a write (3-4 ms vs 0.1 ms), holds
 * 1,000 watches instead of 12, and never sees writes in a folder deleted and recreated under
 * the same name. So 0: always the native backend. Raise it to bring chokidar back.
 */
export const AUTO_CHOKIDAR_BELOW = 0;

export const BACKENDS: Record<BackendName, WatcherFactory> = {
  chokidar: chokidarWatcher,
  native: nativeWatcher,
};

export function chooseBackend(kind: WatcherKind, expectedEntries?: number): BackendName {
  if (kind !== 'auto') return kind;
  // Unknown size: the backend whose cost grows with folders, not files.
  if (expectedEntries === undefined) return 'native';
  return expectedEntries < AUTO_CHOKIDAR_BELOW ? 'chokidar' : 'native';
}

export function createWatcher(kind: WatcherKind, opts: WatchOptions & { expectedEntries?: number }): Watcher {
  const { expectedEntries, ...rest } = opts;
  return BACKENDS[chooseBackend(kind, expectedEntries)](rest);
}

export type { WatchEvent, WatchEventKind, Watcher, WatcherFactory, WatchOptions } from './types.ts';
export { WatchError } from './types.ts';
