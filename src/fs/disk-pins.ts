// A small cache of pinned directory handles for DiskFs's read-only operations (lstat,
// readlink, listing, opening a file to read). A handle is used only while the kernel says it
// is still exactly <root>/<dir> (readlink /proc/self/fd/N) — the same check a fresh pin
// makes; what is saved is opening and closing the folder, and the thread-pool hops (these
// few syscalls are made synchronously: microseconds on a local disk).
// The check is made once per folder per turn of the event loop, not at every use: a burst
// asks for the same few folders thousands of times in one turn (5,000 new files: ~20,000
// checks, 0.2 s of the sender's 2.5 s). Of our own code only DiskFs moves or removes
// folders: while it does (on the thread pool) every use is checked, as before, and the
// turn's checks are forgotten. Another process moving a folder races a per-use check just
// as well (it may move it right after the check), and its events bring the path back to
// be looked at.
import { constants as C, closeSync, lstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { absOf } from './disk-confine.ts';

const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;
const MAX = 64;

export class PinCache {
  private readonly fds = new Map<string, number>();
  /** Folders checked during this turn of the event loop. */
  private readonly verified = new Set<string>();
  private clearing = false;

  constructor(
    private readonly realRoot: string,
    /** False while DiskFs is moving or removing a folder: then every use is checked. */
    private readonly settled: () => boolean = () => true,
  ) {}

  /** Check every handle again at its next use (a folder was moved or removed). */
  forgetVerified(): void {
    this.verified.clear();
  }

  private markVerified(rel: string): void {
    if (!this.settled()) return;
    this.verified.add(rel);
    if (this.clearing) return;
    this.clearing = true;
    setImmediate(() => {
      this.clearing = false;
      this.verified.clear();
    });
  }

  /** A verified handle on directory `rel`, or null (missing, not a folder, or not where it should be). */
  pin(rel: string): number | null {
    const abs = absOf(this.realRoot, rel);
    const cached = this.fds.get(rel);
    if (cached !== undefined) {
      if (this.verified.has(rel) && this.settled()) return cached;
      if (this.where(cached) === abs) {
        // Most recently used last: a Map keeps insertion order.
        this.fds.delete(rel);
        this.fds.set(rel, cached);
        this.markVerified(rel);
        return cached;
      }
      this.fds.delete(rel);
      this.verified.delete(rel);
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
    this.markVerified(rel);
    if (this.fds.size > MAX) {
      const [oldRel, oldFd] = this.fds.entries().next().value as [string, number];
      this.fds.delete(oldRel);
      this.verified.delete(oldRel);
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
    this.verified.clear();
  }
}
