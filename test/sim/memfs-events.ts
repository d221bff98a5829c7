// Watcher events for MemFs: queued as changes happen and handed to onEvents in one batch
// when the injected scheduler runs the flush, so the simulator decides when the "watcher"
// notices. Our own names (state folder, temp files) are skipped, as real backends do.
import { isOwnName } from '../../src/fs/paths.ts';
import type { WatchEvent, WatchEventKind } from '../../src/fs/watcher/types.ts';
import { join, type MemNode } from './memfs-tree.ts';

export class MemEvents {
  onEvents: ((events: WatchEvent[]) => void) | null = null;
  private pending: WatchEvent[] = [];
  private scheduled = false;

  constructor(private readonly schedule: (fn: () => void) => void) {}

  emit(path: string, kind: WatchEventKind): void {
    if (path !== '' && isOwnName(path)) return;
    this.pending.push({ path, kind });
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Events for a node that appeared at `path`, its contents included (parents first). */
  added(path: string, node: MemNode): void {
    if (node.kind !== 'dir') {
      this.emit(path, 'add');
      return;
    }
    this.emit(path, 'addDir');
    for (const [name, child] of node.children) this.added(join(path, name), child);
  }

  /** Events for a node that went away from `path`, its contents included (children first). */
  removed(path: string, node: MemNode): void {
    if (node.kind !== 'dir') {
      this.emit(path, 'unlink');
      return;
    }
    for (const [name, child] of node.children) this.removed(join(path, name), child);
    this.emit(path, 'unlinkDir');
  }

  /** Drop what has not been delivered (a crashed node's watcher dies with it). */
  discard(): void {
    this.pending = [];
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.onEvents?.(batch);
  }
}
