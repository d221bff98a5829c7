import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { daemonArgs, runCli, startDaemon, stopAll } from './daemon.ts';
import { ProcessExitedError, TimeoutError } from './errors.ts';
import { freePort, isListening } from './ports.ts';
import { cleanupAll, makeTempDir } from './tmp.ts';

const FAKE = fileURLToPath(new URL('./fixtures/fake-daemon.mjs', import.meta.url));

after(async () => {
  await stopAll();
  await cleanupAll();
});

async function fake(env: Record<string, string> = {}, peers: string[] = []) {
  const port = await freePort();
  const dir = await makeTempDir('daemon-test');
  const d = await startDaemon({ dir, port, peers, env, entry: FAKE, name: `fake${port}`, secret: 's3cret' });
  return { d, port, dir };
}

test('daemonArgs follows the documented CLI', () => {
  assert.deepEqual(
    daemonArgs({
      dir: '/d',
      port: 1,
      peers: ['a:2', 'b:3'],
      secret: 'x',
      stateDir: '/s',
      nodeId: 'n',
      logLevel: 'debug',
      args: ['--extra'],
    }),
    ['--dir', '/d', '--port', '1', '--peer', 'a:2', '--peer', 'b:3', '--secret', 'x', '--state', '/s'].concat(
      ['--node-id', 'n', '--log-level', 'debug', '--extra'],
    ),
  );
});

test('captures stdout and stderr lines; stop() returns the exit code', async () => {
  const { d, port, dir } = await fake({ FAKE_EXIT_CODE: '5' }, ['127.0.0.1:1']);
  const m = await d.waitForLine(/listening port=(\d+) node=\S+ dir=(\S+)/, 10_000);
  assert.equal(Number(m[1]), port);
  assert.equal(m[2], dir);
  await d.waitForLine(/^args /, 10_000);
  const argsLine = d.lines().find((l) => l.text.startsWith('args '));
  assert.equal(argsLine?.stream, 'stderr');
  assert.deepEqual(JSON.parse(argsLine!.text.slice(5)), [...d.args]);
  assert.ok(d.pid > 0 && d.running);
  assert.equal(await isListening(port), true);
  assert.equal(await d.stop(), 5);
  assert.equal(d.running, false);
  assert.deepEqual(await d.exited, { code: 5, signal: null });
  assert.match(d.dumpLogs(null), /listening port=/);
});

test('stop() falls back to SIGKILL when SIGTERM is ignored', async () => {
  const { d } = await fake({ FAKE_IGNORE_SIGTERM: '1' });
  await d.waitForLine(/listening/, 10_000);
  assert.equal(await d.stop('SIGTERM', 300), null);
  assert.equal((await d.exited).signal, 'SIGKILL');
  await d.waitForLine(/ignoring SIGTERM/, 1000);
});

test('kill9() and restart() with the same arguments', async () => {
  const { d, port } = await fake();
  await d.waitForLine(/listening/, 10_000);
  const firstPid = d.pid;
  const args = [...d.args];
  assert.equal((await d.kill9()).signal, 'SIGKILL');
  await d.restart();
  assert.notEqual(d.pid, firstPid);
  assert.deepEqual([...d.args], args);
  await d.waitForLine(new RegExp(`listening port=${port}`), 10_000);
  assert.ok(d.lines().some((l) => l.run === 2 && /listening/.test(l.text)));
  // By default waitForLine only sees the current run: run 1's exit line does not count.
  await assert.rejects(d.waitForLine(/\[harness\] exited/, 100), TimeoutError);
  await d.waitForLine(/\[harness\] exited/, 100, { since: 0 });
  const mark = d.mark();
  await d.restart();
  await d.waitForLine(/listening/, 10_000, { since: mark });
  assert.equal(await d.stop(), 0);
});

test('waitForLine rejects as soon as the process exits', async () => {
  const { d } = await fake({ FAKE_CRASH_AFTER_MS: '200' });
  const started = Date.now();
  await assert.rejects(d.waitForLine(/never printed/, 20_000), (e: unknown) => {
    assert.ok(e instanceof ProcessExitedError);
    assert.match(e.message, /exited code=7/);
    return true;
  });
  assert.ok(Date.now() - started < 10_000);
});

test('keeps at most maxLines lines and still finds later ones', async () => {
  const port = await freePort();
  const d = await startDaemon({
    dir: await makeTempDir('daemon-test'),
    port,
    entry: FAKE,
    maxLines: 100,
    env: { FAKE_SPAM: '5000' },
  });
  const early = d.waitForLine(/^spam 3$/, 10_000);
  await d.waitForLine(/^spam done$/, 10_000);
  assert.ok(d.lines().length <= 110);
  assert.match(d.dumpLogs(null), /older lines dropped/);
  assert.equal((await early)[0], 'spam 3', 'a waiter registered early saw the line before it was dropped');
  await assert.rejects(d.waitForLine(/^spam 4$/, 100), TimeoutError);
  await d.stop();
});

test('runCli runs one-shot commands', async () => {
  const ok = await runCli(['status', '--port', '1234', '--json'], { entry: FAKE, timeoutMs: 10_000 });
  assert.equal(ok.code, 0);
  assert.deepEqual(JSON.parse(ok.stdout), { ok: true, port: 1234, json: true });
  const bad = await runCli(['fail'], { entry: FAKE, timeoutMs: 10_000 });
  assert.equal(bad.code, 3);
  assert.equal(bad.stderr, 'fake failure\n');
});

test('stopAll() leaves no process behind', async () => {
  const a = await fake();
  const b = await fake({ FAKE_IGNORE_SIGTERM: '1' });
  await Promise.all([a.d.waitForLine(/listening/, 10_000), b.d.waitForLine(/listening/, 10_000)]);
  await stopAll(300);
  for (const pid of [a.d.pid, b.d.pid]) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
});
