// The command line of the real daemon: help and version, usage errors (exit 2, one line),
// start-up problems (exit 1, one line), the start line, clean shutdown on SIGINT and
// SIGTERM, the node id (given or generated and kept), and the folder created if missing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { childEnv, NODE_FLAGS, RESONATE_BIN, SHEBANG_ENV } from '../harness/cli.ts';
import { dumpOnFailure, runCli } from '../harness/daemon.ts';
import { freePort } from '../harness/ports.ts';
import { makeTempDir } from '../harness/tmp.ts';
import { READY, startNode } from './lib/e2e.ts';

after(cleanupHarness);

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** One CLI run, with room for a busy CI machine. */
const cli = (args: string[]) => runCli(args, { timeoutMs: 90_000 });

/** stderr holds exactly one non-empty line (a usage or start-up error). */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  return lines[0]!;
}

test('--help and --version exit 0', async () => {
  const help = await cli(['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage:/);
  assert.match(help.stdout, /--dir DIR/);
  assert.match(help.stdout, /--peer HOST:PORT/);
  const v = await cli(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), `resonate ${VERSION}`);
  const logHelp = await cli(['log', '--help']);
  assert.equal(logHelp.code, 0, logHelp.stderr);
  assert.match(logHelp.stdout, /resonate log/);
});

test('bin/resonate.js runs as a program (its shebang passes node flags through env -S)', async () => {
  const out = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(RESONATE_BIN, ['--version'], { env: childEnv() });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
  assert.equal(out.code, 0);
  assert.equal(out.stdout.trim(), `resonate ${VERSION}`);
  assert.deepEqual(NODE_FLAGS, [
    '--v8-pool-size=1',
    '--max-semi-space-size=2',
    '--heap-growing-percent=20',
    '--expose-gc', // for util/young-garbage.ts
  ]);
  assert.deepEqual(SHEBANG_ENV, { MALLOC_MMAP_THRESHOLD_: '131072' });
});

test('usage errors: one line on stderr and exit 2', async () => {
  const dir = await makeTempDir('resonate-cli');
  const port = String(await freePort());
  const cases: [string[], RegExp][] = [
    [['--dir', dir, '--port', port, '--bogus'], /unknown option.*--bogus/i],
    [['-dir', dir, '-port', port, '-bogus', 'x'], /unknown option -bogus/],
    [['--dir', dir, '--port', '99999'], /--port: not a port number: 99999/],
    [['--dir', dir], /--port is required/],
    [['--port', port], /--dir is required/],
    [['--dir', dir, '--port', port, '--node-id', 'bad id!'], /--node-id: invalid/],
    [['--dir', dir, '--port', port, 'stray'], /positional|unexpected|argument/i],
  ];
  // Two at a time: each is a node process loading the CLI, on a machine that may be busy.
  const check = async ([args, re]: [string[], RegExp]) => {
    const r = await cli(args);
    assert.equal(r.code, 2, `resonate ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    const line = oneLine(r.stderr);
    assert.match(line, /^resonate: /);
    assert.match(line, re);
    assert.equal(r.stdout, '', 'nothing on stdout');
  };
  for (let i = 0; i < cases.length; i += 2) await Promise.all(cases.slice(i, i + 2).map(check));
});

test('a folder that cannot be created: one line and exit 1', async () => {
  // Tests run as root, so permissions do not stop us: put the folder under a regular file.
  const base = await makeTempDir('resonate-cli');
  const file = join(base, 'plain-file');
  await writeFile(file, 'not a folder');
  const r = await cli(['--dir', join(file, 'sync'), '--port', String(await freePort())]);
  assert.equal(r.code, 1, r.stderr);
  const line = oneLine(r.stderr);
  assert.match(line, /^resonate: cannot use folder .*plain-file\/sync/);
  // --dir naming a regular file is refused the same way.
  const r2 = await cli(['--dir', file, '--port', String(await freePort())]);
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(oneLine(r2.stderr), /^resonate: cannot use folder .*plain-file/);
});

test('a port in use: one line naming the port and exit 1', async () => {
  const port = await freePort();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen({ port, host: '127.0.0.1' }, resolve));
  try {
    const dir = await makeTempDir('resonate-cli');
    const r = await cli(['--dir', dir, '--port', String(port)]);
    assert.equal(r.code, 1, r.stderr);
    // The loopback-only warning is a log line, not part of the error.
    const errs = r.stderr.split('\n').filter((l) => l.startsWith('resonate:'));
    assert.equal(errs.length, 1, r.stderr);
    assert.match(errs[0]!, new RegExp(`^resonate: port ${port} is already in use$`));
    const others = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('resonate:'));
    assert.ok(
      others.every((l) => /\b(warn|info|debug)\b/.test(l)),
      `only log lines besides the error:\n${r.stderr}`,
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('the start line; SIGINT and SIGTERM stop cleanly with exit 0', () =>
  dumpOnFailure(async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const peerPort = await freePort();
      const d = await startNode({ nodeId: `sig-${signal.toLowerCase()}`, peers: [`127.0.0.1:${peerPort}`] });
      const start = await d.waitForLine(/^resonate (\S+): folder (.+), listening on (\S+), peers (\S+)$/);
      assert.equal(start[1], `sig-${signal.toLowerCase()}`);
      assert.equal(start[2], d.dir);
      assert.match(start[3]!, new RegExp(`^(127\\.0\\.0\\.1|::1)(,(127\\.0\\.0\\.1|::1))*:${d.port}$`));
      assert.equal(start[4], `127.0.0.1:${peerPort}`);
      const code = await d.stop(signal, 15_000);
      assert.equal(code, 0, `exit code after ${signal}`);
      assert.deepEqual(d.exit, { code: 0, signal: null });
      assert.ok(
        d.lines().some((l) => /stopped cleanly/.test(l.text)),
        `a "stopped cleanly" line after ${signal}`,
      );
      d.unregister();
    }
  }));

test('--node-id is honoured; a generated id is kept across restarts; the folder is created', () =>
  dumpOnFailure(async () => {
    const base = await makeTempDir('resonate-cli');
    // A folder that does not exist yet, two levels deep.
    const dir = join(base, 'new', 'sync');
    const d = await startNode({ dir });
    assert.ok((await stat(dir)).isDirectory(), 'the folder was created');
    const first = await d.waitForLine(/^resonate (\S+): folder /);
    const id = first[1]!;
    assert.match(id, /^[A-Za-z0-9_.-]{1,32}$/);
    assert.match(first.input, /peers none$/);
    const mark = d.mark();
    await d.restart();
    await d.waitForLine(READY, 60_000, { since: mark });
    const again = await d.waitForLine(/^resonate (\S+): folder /, 10_000, { since: mark });
    assert.equal(again[1], id, 'the generated node id survives a restart');
    assert.equal(await d.stop(), 0);
    d.unregister();

    const named = await startNode({ nodeId: 'alpha-1.x_y' });
    const line = await named.waitForLine(/^resonate (\S+): folder /);
    assert.equal(line[1], 'alpha-1.x_y');
    const st = await cli(['status', '--port', String(named.port), '--json']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal((JSON.parse(st.stdout) as { node: { id: string } }).node.id, 'alpha-1.x_y');
    assert.equal(await named.stop(), 0);
    named.unregister();
  }));
