// Rival tools as child processes: each in its own process group (so a tool's helpers die
// with it), output kept for error messages, every one registered so cleanup kills them all
// (by their own group id, nothing else) even when the run is interrupted.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const registry = new Set<Proc>();

export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private waiters = new Set<() => void>();
  exited = false;
  /** Called with every output line as it arrives (drivers react to a tool's events). */
  onLine: ((line: string) => void) | null = null;
  readonly done: Promise<number | null>;

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    for (const s of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: s, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (l) => this.push(l));
    }
    this.done = new Promise((resolve) => {
      this.child.once('close', (code) => {
        this.exited = true;
        registry.delete(this);
        this.push(`[exited ${code}]`);
        resolve(code);
      });
      this.child.once('error', (err) => {
        this.exited = true;
        registry.delete(this);
        this.push(`[spawn error ${err.message}]`);
        resolve(null);
      });
    });
    registry.add(this);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private push(line: string): void {
    this.lines.push(line);
    this.onLine?.(line);
    if (this.lines.length > 2000) this.lines.splice(0, 1000);
    for (const w of [...this.waiters]) w();
  }

  tail(n = 15): string {
    return this.lines.slice(-n).join('\n');
  }

  /** The first output line matching re (already printed ones count); rejects on exit or timeout. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.lines.find((l) => re.test(l));
        if (hit !== undefined) finish(() => resolve(hit));
        else if (this.exited) finish(() => reject(new Error(`${this.name} exited:\n${this.tail()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.name}: no ${re} in ${timeoutMs} ms\n${this.tail()}`))),
        timeoutMs,
      );
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM to the whole group, SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    await this.done;
    clearTimeout(timer);
    signalGroup(this.pid, 'SIGKILL'); // helpers the leader left behind
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // group already gone
  }
}

/** Run a command to completion; resolves with its exit code and output. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; out: string }> {
  const p = new Proc(cmd, cmd, args, opts);
  const timer = setTimeout(() => void p.stop(1000), opts.timeoutMs ?? 60_000);
  return p.done.then((code) => {
    clearTimeout(timer);
    return { code, out: p.lines.slice(0, -1).join('\n') };
  });
}

export async function stopAllProcs(): Promise<void> {
  await Promise.all([...registry].map((p) => p.stop(2000)));
}

/** Synchronous last resort for 'exit' handlers. */
export function killAllProcsSync(): void {
  for (const p of registry) signalGroup(p.pid, 'SIGKILL');
}
