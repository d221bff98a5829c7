// The receiving end of the one-way rivals: an rsync daemon on 127.0.0.1 serving side b's
// folder as module "bench", writable, no chroot (the bench runs as root).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../test/harness/ports.ts';
import { makeTempDir } from '../../test/harness/tmp.ts';
import { Proc, run } from '../lib/procs.ts';

export const MODULE = 'bench';

export async function startRsyncd(dir: string): Promise<{ proc: Proc; port: number }> {
  const etc = await makeTempDir('bench-rsyncd');
  const conf = join(etc, 'rsyncd.conf');
  await writeFile(
    conf,
    `use chroot = no\n[${MODULE}]\n  path = ${dir}\n  read only = no\n  uid = root\n  gid = root\n`,
  );
  const port = await freePort();
  const proc = new Proc('rsyncd', 'rsync', [
    '--daemon',
    '--no-detach',
    '--address=127.0.0.1',
    `--port=${port}`,
    `--config=${conf}`,
    `--log-file=${join(etc, 'rsyncd.log')}`,
  ]);
  try {
    await waitForPort(port, '127.0.0.1', 10_000);
  } catch (err) {
    await proc.stop();
    throw new Error(`rsync daemon did not listen: ${(err as Error).message}\n${proc.tail()}`);
  }
  return { proc, port };
}

export async function rsyncVersion(): Promise<string> {
  const r = await run('rsync', ['--version'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error('rsync not installed (apt-get install rsync)');
  return /version\s+(\S+)/.exec(r.out)?.[1] ?? '?';
}
