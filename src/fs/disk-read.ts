// A read handle on a raw descriptor, for DiskFs's pinned fast path (see fd-io.ts for why
// small reads and metadata calls are synchronous).
import type { Stats } from 'node:fs';
import { toStat } from './disk-stat.ts';
import { FdIo } from './fd-io.ts';
import type { ReadHandle, Stat } from './types.ts';

export class FdReadHandle implements ReadHandle {
  private readonly io: FdIo;
  /** The fstat taken right after open, served to the first stat() (one syscall per file fewer). */
  private opened: Stats | null;

  constructor(path: string, fd: number, opened: Stats) {
    this.io = new FdIo(fd, path, opened.size);
    this.opened = opened;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.io.read(buf, offset, length, position);
  }

  async stat(): Promise<Stat> {
    const st = this.opened ?? this.io.stat();
    this.opened = null;
    return toStat(st);
  }

  close(): Promise<void> {
    this.opened = null;
    return this.io.close();
  }
}
