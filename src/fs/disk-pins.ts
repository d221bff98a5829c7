// A small cache of pinned directory handles for DiskFs's read-only metadata operations
// (lstat, readlink, listing). Each use re-asks the kernel where the handle is
// (readlink /proc/self/fd/N) and uses it only if that is still exactly <root>/<dir> — the
// same check a fresh pin makes, so the guarantee is unchanged; what is saved is opening and
// closing the folder, and the thread-pool hops (these few syscalls are made synchronously:
// microseconds on a local disk).
import { constants as C, closeSync, lstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { absOf } from './disk-confine.ts';

const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;
const MAX = 64;

export class PinCache {
  private readonly fds = new Map<string, number>();

  constructor(private readonly realRoot: string) {}

  /** A verified handle on directory `rel`, or null (missing, not a folder, or not where it should be). */
  pin(rel: string): number | null {
    const abs = absOf(this.realRoot, rel);
    const cached = this.fds.get(rel);
    if (cached !== undefined) {
      if (this.where(cached) === abs) {
        // Most recently used last: a Map keeps insertion order.
        this.fds.delete(rel);
        this.fds.set(rel, cached);
        return cached;
      }
      this.fds.delete(rel);
      closeSync(cached);
    }
    let fd: number;
    try {
      fd = openSync(abs, DIR_FLAGS);
    } catch {
      return null;
    }
    if (this.where(fd) !== abs) {
      closeSync(fd);
      return null;
    }
    this.fds.set(rel, fd);
    if (this.fds.size > MAX) {
      const [oldRel, oldFd] = this.fds.entries().next().value as [string, number];
      this.fds.delete(oldRel);
      closeSync(oldFd);
    }
    return fd;
  }

  private where(fd: number): string | null {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return null;
    }
  }

  /** OS path of `name` through pinned folder `dir`, or null if the folder could not be pinned. */
  entry(dir: string, name: string): string | null {
    const fd = this.pin(dir);
    return fd === null ? null : `/proc/self/fd/${fd}/${name}`;
  }

  /** lstat of `name` in pinned folder `dir`; undefined if the folder could not be pinned. */
  lstat(dir: string, name: string): Stats | null | undefined {
    const fd = this.pin(dir);
    if (fd === null) return undefined;
    return lstatSync(`/proc/self/fd/${fd}/${name}`, { throwIfNoEntry: false }) ?? null;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
