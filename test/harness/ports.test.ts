import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { TimeoutError } from './errors.ts';
import { freePort, isListening, waitForPort } from './ports.ts';

test('freePort never hands out the same port twice, and the ports are bindable', async () => {
  const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
  assert.equal(new Set(ports).size, ports.length);
  const servers = await Promise.all(
    ports.slice(0, 10).map(
      (p) =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(p, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

test('waitForPort waits for a listener that appears later', async () => {
  const port = await freePort();
  assert.equal(await isListening(port), false);
  const server = createServer();
  setTimeout(() => server.listen(port, '127.0.0.1'), 100);
  await waitForPort(port, '127.0.0.1', 5000);
  assert.equal(await isListening(port), true);
  await new Promise((r) => server.close(r));
  await assert.rejects(waitForPort(port, '127.0.0.1', 100), TimeoutError);
});
