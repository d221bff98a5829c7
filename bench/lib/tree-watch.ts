// Sees changes on the receiving side the moment the kernel reports them: one fs.watch
// (inotify) per folder, and a folder that appears later is watched and then listed, so
// files written into it before its watch existed are still reported. Every name ever
// reported is kept, to prove a file (an editor's temp file) never appeared.
import { type FSWatcher, watch } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export type OnChange = (rel: string, at: number) => void;

export class TreeWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  /** Every relative path reported since start. */
  readonly seen = new Set<string>();
  private closed = false;

  private constructor(
    readonly root: string,
    private readonly ignored: (name: string) => boolean,
    private readonly onChange: OnChange,
  ) {}

  /** Watch root and every folder below it (ignored names are skipped entirely). */
  static async start(
    root: string,
    ignored: (name: string) => boolean,
    onChange: OnChange,
  ): Promise<TreeWatch> {
    const w = new TreeWatch(root, ignored, onChange);
    await w.addDir('', false);
    return w;
  }

  private report(rel: string, at: number): void {
    this.seen.add(rel);
    this.onChange(rel, at);
  }

  private async addDir(rel: string, announce: boolean): Promise<void> {
    if (this.closed || this.watchers.has(rel)) return;
    const abs = rel ? join(this.root, rel) : this.root;
    let w: FSWatcher;
    try {
      w = watch(abs, { persistent: false }, (_event, name) => {
        if (name === null || this.ignored(name)) return;
        const child = rel ? `${rel}/${name}` : name;
        this.report(child, performance.now());
        void this.maybeDir(child);
      });
    } catch {
      return; // gone already
    }
    w.on('error', () => this.dropDir(rel));
    this.watchers.set(rel, w);
    // List after watching: whatever was written before the watch existed is reported now.
    const names = await readdir(abs).catch(() => [] as string[]);
    const at = performance.now();
    for (const name of names) {
      if (this.ignored(name)) continue;
      const child = rel ? `${rel}/${name}` : name;
      if (announce) this.report(child, at);
      await this.maybeDir(child, announce);
    }
  }

  private async maybeDir(rel: string, announce = true): Promise<void> {
    const st = await lstat(join(this.root, rel)).catch(() => null);
    if (st?.isDirectory()) await this.addDir(rel, announce);
    else if (!st) this.dropDir(rel);
  }

  private dropDir(rel: string): void {
    for (const [k, w] of this.watchers) {
      if (k === rel || k.startsWith(`${rel}/`)) {
        w.close();
        this.watchers.delete(k);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
