// Real daemons as child processes: start with the documented CLI, keep every output line
// in memory (printed only when a test fails, or live with RESONATE_ECHO_LOGS=1), wait for
// lines, stop gracefully or kill -9, restart with the same arguments. Every daemon is
// registered, so stopAll() in an `after` hook leaves no process behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { childEnv, nodeArgs, REPO_ROOT, RESONATE_BIN } from './cli.ts';
import { ProcessExitedError, TimeoutError } from './errors.ts';

export { type CliOptions, type CliResult, runCli } from './cli.ts';

export interface DaemonOptions {
  dir: string;
  port: number;
  /** "host:port" of each peer to dial. */
  peers?: string[];
  secret?: string;
  stateDir?: string;
  nodeId?: string;
  logLevel?: string;
  /** Extra CLI arguments, appended last. */
  args?: string[];
  /** Added to the inherited environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** Label for log lines (default "daemon:<port>"). */
  name?: string;
  /** Script to run instead of bin/resonate.js (a .ts script is run through tsx). */
  entry?: string;
  /** Keep at most this many lines in memory (default 50 000; older ones are dropped). */
  maxLines?: number;
}

export interface LogLine {
  /** ms since the epoch when the line was read. */
  t: number;
  stream: 'stdout' | 'stderr';
  text: string;
  /** 1 for the first start, +1 per restart. */
  run: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The CLI arguments startDaemon passes (exported so cluster tests can check them). */
export function daemonArgs(o: DaemonOptions): string[] {
  const out = ['--dir', o.dir, '--port', String(o.port)];
  for (const p of o.peers ?? []) out.push('--peer', p);
  if (o.secret !== undefined) out.push('--secret', o.secret);
  if (o.stateDir !== undefined) out.push('--state', o.stateDir);
  if (o.nodeId !== undefined) out.push('--node-id', o.nodeId);
  if (o.logLevel !== undefined) out.push('--log-level', o.logLevel);
  out.push(...(o.args ?? []));
  return out;
}

const registry = new Set<Daemon>();
const echo = () => process.env.RESONATE_ECHO_LOGS === '1';

export class Daemon {
  readonly name: string;
  readonly args: readonly string[];
  private readonly entry: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly maxLines: number;
  private child!: ChildProcess;
  private buffer: LogLine[] = [];
  private droppedLines = 0;
  private run = 0;
  private runStart = 0;
  private exitInfo: ExitInfo | undefined;
  private waiters = new Set<() => void>();
  /** Resolves when the current process has exited and its output is fully read. */
  exited!: Promise<ExitInfo>;
  /** Resolves once the current process is running (rejects if it could not be spawned). */
  spawned!: Promise<void>;

  constructor(opts: DaemonOptions) {
    this.name = opts.name ?? `daemon:${opts.port}`;
    this.args = daemonArgs(opts);
    this.entry = opts.entry ?? RESONATE_BIN;
    this.env = childEnv(opts.env);
    this.maxLines = opts.maxLines ?? 50_000;
    this.spawn();
    registry.add(this);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** How the last process ended (undefined while it runs). */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  private spawn(): void {
    this.run++;
    this.exitInfo = undefined;
    this.runStart = this.droppedLines + this.buffer.length;
    const child = spawn(process.execPath, nodeArgs(this.entry, [...this.args]), {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.spawned = once(child, 'spawn').then(() => undefined);
    this.spawned.catch(() => {});
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (text) =>
        this.push(stream, text),
      );
    }
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit') fires once stdout/stderr are drained: no late lines after it.
      child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.push('stderr', `[harness] exited code=${code} signal=${signal}`);
        resolve(this.exitInfo);
      });
      child.once('error', (err) => this.push('stderr', `[harness] spawn error: ${err.message}`));
    });
  }

  private push(stream: LogLine['stream'], text: string): void {
    this.buffer.push({ t: Date.now(), stream, text, run: this.run });
    if (this.buffer.length > this.maxLines * 1.1) {
      const drop = this.buffer.length - this.maxLines;
      this.buffer.splice(0, drop);
      this.droppedLines += drop;
    }
    if (echo()) process.stderr.write(`[${this.name}] ${text}\n`);
    for (const w of [...this.waiters]) w();
  }

  /** Lines kept in memory, oldest first. */
  lines(): LogLine[] {
    return [...this.buffer];
  }

  /** A position in the output: waitForLine(re, ms, { since: mark() }) ignores older lines. */
  mark(): number {
    return this.droppedLines + this.buffer.length;
  }

  /** The first match at absolute line index >= from, and where the scan stopped. */
  private findFrom(re: RegExp, from: number): { match: RegExpExecArray | null; next: number } {
    let i = Math.max(0, from - this.droppedLines);
    for (; i < this.buffer.length; i++) {
      re.lastIndex = 0;
      const match = re.exec(this.buffer[i]!.text);
      if (match) return { match, next: i + this.droppedLines };
    }
    return { match: null, next: i + this.droppedLines };
  }

  /**
   * The first line matching re, from the start of the current run (or from `since`),
   * including lines already printed. Rejects if the process exits first or on timeout.
   */
  waitForLine(re: RegExp, timeoutMs = 30_000, opts: { since?: number } = {}): Promise<RegExpExecArray> {
    // Each waiter scans only lines it has not seen yet: chatty daemons stay linear.
    let next = opts.since ?? this.runStart;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const found = this.findFrom(re, next);
        next = found.next;
        const m = found.match;
        if (m) finish(() => resolve(m));
        else if (!this.running)
          finish(() =>
            reject(new ProcessExitedError(`${this.name} exited before printing ${re}\n${this.tail()}`)),
          );
      };
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new TimeoutError(`${this.name}: no line matching ${re} in ${timeoutMs} ms\n${this.tail()}`),
            ),
          ),
        timeoutMs,
      );
      this.waiters.add(check);
      check();
    });
  }

  /** Send signal and wait for exit; SIGKILL if still running after timeoutMs. Returns the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    if (this.running) {
      this.child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => {
        timer = setTimeout(() => r('late'), timeoutMs);
      });
      const res = await Promise.race([this.exited, late]);
      clearTimeout(timer);
      if (res === 'late') {
        this.push('stderr', `[harness] no exit ${timeoutMs} ms after ${signal}: SIGKILL`);
        this.child.kill('SIGKILL');
      }
    }
    return (await this.exited).code;
  }

  /** kill -9 (a crash, from the daemon's point of view) and wait for the exit. */
  async kill9(): Promise<ExitInfo> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Stop (if running) and start again with the same arguments; output continues in lines(). */
  async restart(): Promise<void> {
    await this.stop();
    this.push('stderr', `[harness] ---- restart (run ${this.run + 1}) ----`);
    this.spawn();
    await this.spawned;
  }

  /** The last n lines as text. */
  tail(n = 40): string {
    return this.buffer
      .slice(-n)
      .map((l) => `  [${this.name} ${l.stream}] ${l.text}`)
      .join('\n');
  }

  /** All kept output as one text block, also written to write (stderr by default). */
  dumpLogs(write: ((s: string) => void) | null = (s) => process.stderr.write(s)): string {
    const head = `---- ${this.name} (pid ${this.pid}): ${this.args.join(' ')}${
      this.droppedLines ? ` [${this.droppedLines} older lines dropped]` : ''
    } ----\n`;
    const text = `${head}${this.tail(this.buffer.length)}\n`;
    write?.(text);
    return text;
  }

  /** Forget this daemon in the registry (after it is stopped for good). */
  unregister(): void {
    registry.delete(this);
  }
}

/** Spawn a daemon (resolves once the process exists; wait for readiness with waitForLine or waitForPort). */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const d = new Daemon(opts);
  await d.spawned;
  return d;
}

/** Stop every daemon this process started (SIGTERM, then SIGKILL after timeoutMs). */
export async function stopAll(timeoutMs = 10_000): Promise<void> {
  await Promise.all([...registry].map((d) => d.stop('SIGTERM', timeoutMs)));
  registry.clear();
}

/** Print the logs of every registered daemon. */
export function dumpAllLogs(): void {
  for (const d of registry) d.dumpLogs();
}

/** Run fn; if it throws, print every daemon's logs first, then rethrow. */
export async function dumpOnFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    dumpAllLogs();
    throw err;
  }
}

// Exit handlers must be synchronous: a SIGKILL is all we can still do for stragglers.
process.once('exit', () => {
  for (const d of registry) {
    try {
      if (d.running) process.kill(d.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
