// MemFs subjects for the FileSystem contract and the MemFs tests: a virtual clock, a
// seeded byte source and a manual scheduler, so every run is identical.
import type { MakeSubject, Subject, SubjectOptions } from '../fs/contract.ts';
import { MemFs } from './memfs.ts';

export class ManualScheduler {
  private queue: (() => void)[] = [];
  readonly schedule = (fn: () => void): void => {
    this.queue.push(fn);
  };
  get pending(): number {
    return this.queue.length;
  }
  /** Run everything queued so far (and what that queues). */
  runAll(): void {
    while (this.queue.length > 0) this.queue.shift()?.();
  }
}

/** A tiny deterministic byte source (xorshift32). */
export function seededRandom(seed = 1): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

export interface MemSetup {
  fs: MemFs;
  clock: { t: number };
  scheduler: ManualScheduler;
}

export function makeMemFs(opts: SubjectOptions = {}, start = 1_700_000_000_000): MemSetup {
  const clock = { t: start };
  const scheduler = new ManualScheduler();
  const fs = new MemFs({
    now: () => clock.t,
    random: opts.random ?? seededRandom(7),
    schedule: scheduler.schedule,
  });
  return { fs, clock, scheduler };
}

export const memSubject: MakeSubject = async (opts?: SubjectOptions): Promise<Subject> => {
  const { fs } = makeMemFs(opts);
  const u = fs.user;
  return {
    fs,
    out: {
      writeFile: async (p, data) => u.writeFile(p, data),
      readFile: async (p) => {
        const node = fs.tree.locate(p).node;
        return node?.kind === 'file' ? Buffer.from(node.data.subarray(0, node.size)).toString('utf8') : null;
      },
      mkdir: async (p) => u.mkdir(p),
      symlink: async (target, p) => u.symlink(target, p),
      rmrf: async (p) => {
        if (fs.tree.locate(p).node !== undefined) u.rmdir(p);
      },
      mv: async (a, b) => u.mv(a, b),
      mkfifo: async (p) => u.mkfifo(p),
      escape: '/outside',
      // Nothing exists outside a MemFs; it cannot follow a link there by construction.
      escapeState: async () => ({ names: ['passwd'], passwd: 'secret', mode: 0o644 }),
    },
  };
};
