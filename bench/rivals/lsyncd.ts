// lsyncd (one-way): its default.rsync layer on side a with no extra delay, pushing to the
// same rsync daemon as inotify+rsync does, its bytes counted the same way.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '../../test/harness/tmp.ts';
import { Proc, run } from '../lib/procs.ts';
import { MemGroup } from '../lib/rss.ts';
import { MODULE, startRsyncd } from './rsyncd.ts';
import type { Pair, System } from './types.ts';
import { countOneWay } from './wire-count.ts';

export const lsyncd: System = {
  id: 'lsyncd',
  label: 'lsyncd',
  modes: ['quick', 'default', 'full'],
  async probe() {
    const r = await run('lsyncd', ['--version'], { timeoutMs: 10_000 }).catch(() => null);
    const v = r ? /Version:\s*(\S+)/.exec(r.out)?.[1] : undefined;
    if (!v) throw new Error('lsyncd not installed (apt-get install lsyncd)');
    return v;
  },
  async start(): Promise<Pair> {
    const a = await makeTempDir('bench-ls-a');
    const b = await makeTempDir('bench-ls-b');
    const etc = await makeTempDir('bench-ls-etc');
    const rsyncd = await startRsyncd(b);
    const wire = await countOneWay(rsyncd.port);
    const conf = join(etc, 'lsyncd.lua');
    await writeFile(
      conf,
      `settings { nodaemon = true }\nsync { default.rsync, source = "${a}", target = "rsync://127.0.0.1:${wire.toB}/${MODULE}/", delay = 0, rsync = { archive = true } }\n`,
    );
    const proc = new Proc('lsyncd', 'lsyncd', [conf]);
    const stop = async () => {
      await proc.stop();
      await rsyncd.proc.stop();
      await wire.close();
    };
    try {
      await proc.waitForLine(/Startup of .* finished/, 30_000);
    } catch (err) {
      await stop();
      throw err;
    }
    const memA = new MemGroup(() => [proc.pid], true);
    const memB = new MemGroup(() => [rsyncd.proc.pid], true);
    return {
      a,
      b,
      twoWay: false,
      ignored: () => false,
      bytes: () => wire.bytes(),
      resetBytes: () => wire.reset(),
      memA,
      memB,
      stop: async () => {
        memA.close();
        memB.close();
        await stop();
      },
    };
  },
};
