// Memory of the processes under test, from /proc: VmHWM is the kernel's own peak RSS of a
// process (exact, no sampling gaps) and writing 5 to /proc/PID/clear_refs resets it, so a
// scenario step can measure its own peak. Tools that fork short-lived helpers (rsync) are
// sampled as a process tree every 50 ms instead, since a helper's VmHWM dies with it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

export interface Mem {
  rss: number;
  hwm: number;
}

/** Current and peak RSS in bytes, or null if the process is gone. */
export function readMem(pid: number): Mem | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Reset a process's VmHWM to its current RSS (Linux >= 4.0; needs the right to write there). */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The pids and all their descendants (one read of /proc). */
export function processTree(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const todo = roots.filter((p) => p > 0);
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Peak memory of one side of a pair: the root processes and whatever they fork. */
export class MemGroup {
  private sampledPeak = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly roots: () => number[],
    /** Sample the tree (for tools with short-lived helpers); off: VmHWM of the roots only. */
    private readonly sampleTree: boolean,
  ) {
    if (sampleTree) {
      this.timer = setInterval(() => this.sample(), 50);
      this.timer.unref();
    }
  }

  private sample(): void {
    let sum = 0;
    for (const pid of processTree(this.roots())) sum += readMem(pid)?.rss ?? 0;
    this.sampledPeak = Math.max(this.sampledPeak, sum);
  }

  /** Current RSS of the tree, bytes. */
  current(): number {
    let sum = 0;
    for (const pid of processTree(this.roots())) sum += readMem(pid)?.rss ?? 0;
    return sum;
  }

  /** Peak since start or the last reset, bytes: max of the roots' VmHWM sum and the sampled tree. */
  peak(): number {
    if (this.sampleTree) this.sample();
    let hwm = 0;
    for (const pid of this.roots()) hwm += readMem(pid)?.hwm ?? 0;
    return Math.max(hwm, this.sampledPeak);
  }

  /** Start a new peak window from now. */
  reset(): void {
    for (const pid of this.roots()) resetPeak(pid);
    this.sampledPeak = 0;
    if (this.sampleTree) this.sample();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
