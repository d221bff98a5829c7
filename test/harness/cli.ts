// One-shot CLI runs (`resonate status --port P --json`, ...) and the spawn details shared
// with daemon.ts: where the repo and bin/resonate.js are, and the environment children get.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TimeoutError } from './errors.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RESONATE_BIN = join(REPO_ROOT, 'bin', 'resonate.js');

const SHEBANG = (() => {
  const line = readFileSync(RESONATE_BIN, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env -S((?: [A-Z_]+=\S+)*) node((?: --\S+)*)$/.exec(line);
  if (!m) throw new Error(`unexpected first line of ${RESONATE_BIN}: ${line}`);
  return { env: m[1]!.split(' ').filter(Boolean), flags: m[2]!.split(' ').filter(Boolean) };
})();

/** The node flags of bin/resonate.js's `#!/usr/bin/env -S [VAR=x] node ...` line: children get them too. */
export const NODE_FLAGS: readonly string[] = SHEBANG.flags;

/** The environment assignments of that line (glibc's malloc settings), also given to children. */
export const SHEBANG_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  SHEBANG.env.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
);

/** node arguments to run entry with, as the shebang would: TypeScript fixtures go through tsx. */
export function nodeArgs(entry: string, args: string[]): string[] {
  return entry.endsWith('.ts')
    ? [...NODE_FLAGS, '--import', 'tsx', entry, ...args]
    : [...NODE_FLAGS, entry, ...args];
}

/** The inherited environment, the shebang's, plus extra; an undefined value removes a variable. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...SHEBANG_ENV };
  // Set by node --test in test files; a child that inherits it would behave as a test.
  delete env.NODE_TEST_CONTEXT;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  entry?: string;
  cwd?: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one CLI command to completion (`status --port P --json`, ...). */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const { timeoutMs = 30_000, entry = RESONATE_BIN } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs(entry, args), {
      cwd: opts.cwd ?? REPO_ROOT,
      env: childEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new TimeoutError(
          `resonate ${args.join(' ')}: no exit in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
