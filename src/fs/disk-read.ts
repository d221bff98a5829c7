// A read handle on a raw descriptor, for DiskFs's pinned fast path (see fd-io.ts for why
// small reads and metadata calls are synchronous).
import { toStat } from './disk-stat.ts';
import { FdIo } from './fd-io.ts';
import type { ReadHandle, Stat } from './types.ts';

export class FdReadHandle implements ReadHandle {
  private readonly io: FdIo;

  constructor(path: string, fd: number, size: number) {
    this.io = new FdIo(fd, path, size);
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.io.read(buf, offset, length, position);
  }

  async stat(): Promise<Stat> {
    return toStat(this.io.stat());
  }

  close(): Promise<void> {
    return this.io.close();
  }
}
