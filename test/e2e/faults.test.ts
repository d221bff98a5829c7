// Faults injected into the real daemon's disk I/O (RESONATE_FAULTS, see src/fs/faulty-spec.ts):
// disk full and I/O errors while writing, a file vanishing between stat and read, permission
// denied. Each must give a clear log line and a retry later; nothing lost or corrupted.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { type Daemon, dumpOnFailure, startDaemon } from '../harness/daemon.ts';
import { seededBytes, writeBytes } from '../harness/files.ts';
import { freePort } from '../harness/ports.ts';
import { makeTempDir } from '../harness/tmp.ts';
import { waitFor } from '../harness/wait.ts';

after(cleanupHarness);

async function pair(
  faultsA: string,
  faultsB: string,
): Promise<{ a: Daemon; b: Daemon; dirA: string; dirB: string }> {
  const [pa, pb] = [await freePort(), await freePort()];
  const dirA = await makeTempDir('faults-a-');
  const dirB = await makeTempDir('faults-b-');
  const a = await startDaemon({
    dir: dirA,
    port: pa,
    peers: [`127.0.0.1:${pb}`],
    name: 'A',
    env: { RESONATE_FAULTS: faultsA },
  });
  const b = await startDaemon({
    dir: dirB,
    port: pb,
    peers: [`127.0.0.1:${pa}`],
    name: 'B',
    env: { RESONATE_FAULTS: faultsB },
  });
  await a.waitForLine(/peer connected/, 30_000);
  await b.waitForLine(/peer connected/, 30_000);
  return { a, b, dirA, dirB };
}

async function sameFile(dir: string, rel: string, bytes: Uint8Array): Promise<boolean> {
  try {
    return Buffer.compare(await readFile(join(dir, rel)), bytes) === 0;
  } catch {
    return false;
  }
}

/**
 * No temp file stays behind. One may exist for a moment after the file arrived (a later
 * version of it on its way, under load), so this waits for none; a leaked one never goes.
 */
async function noTempLeft(dir: string): Promise<void> {
  const temps = async () => (await readdir(dir)).filter((n) => n.startsWith('.resonate-tmp-'));
  await waitFor(async () => (await temps()).length === 0, {
    timeoutMs: 15_000,
    message: 'no temp file left behind',
    describe: async () => JSON.stringify(await temps()),
  }).catch(async (err: unknown) => {
    assert.deepEqual(await temps(), [], `no temp file left behind (${String(err)})`);
  });
}

for (const [label, spec, line] of [
  [
    'disk full while writing',
    'write:ENOSPC:times=3',
    /cannot update; will retry.*no space|ENOSPC|ERR_NO_SPACE/i,
  ],
  ['an I/O error at commit', 'commit:EIO:times=2', /cannot update; will retry/],
  ['permission denied creating the temp file', 'createTemp:EACCES:times=2', /cannot update; will retry/],
] as const) {
  test(`receiver: ${label} is logged, retried, and the file arrives intact`, () =>
    dumpOnFailure(async () => {
      const { b, dirA, dirB } = await pair('', spec);
      const data = seededBytes(300_000, label);
      await writeBytes(dirA, 'doc.bin', data);
      await b.waitForLine(line, 30_000);
      await waitFor(() => sameFile(dirB, 'doc.bin', data), { timeoutMs: 60_000, message: 'doc.bin on B' });
      await noTempLeft(dirB);
    }));
}

test('sender: a file vanishing between stat and read is looked at again and synced', () =>
  dumpOnFailure(async () => {
    const { a, dirA, dirB } = await pair('openRead:VANISH:times=2:path=^big', '');
    const data = seededBytes(200_000, 'vanish');
    await writeBytes(dirA, 'big.bin', data);
    await a.waitForLine(/vanished while being read/, 30_000);
    await waitFor(() => sameFile(dirB, 'big.bin', data), { timeoutMs: 60_000, message: 'big.bin on B' });
  }));

test('sender: a read error is logged and retried', () =>
  dumpOnFailure(async () => {
    const { a, dirA, dirB } = await pair('read:EIO:times=2:path=^r', '');
    const data = seededBytes(50_000, 'eio');
    await writeBytes(dirA, 'r.bin', data);
    await a.waitForLine(/cannot read; will retry/, 30_000);
    await waitFor(() => sameFile(dirB, 'r.bin', data), { timeoutMs: 60_000, message: 'r.bin on B' });
  }));
