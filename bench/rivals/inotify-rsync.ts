// The classic one-way "inotify + rsync": inotifywait -m -r on side a, and on every event an
// `rsync -a --delete a/ rsync://127.0.0.1/bench/` - coalesced, so events that arrive while one
// rsync runs cause exactly one more run (a per-event rsync would be far slower with 5,000
// files). The small driver loop runs inside the bench process and is not counted in RSS.
import { makeTempDir } from '../../test/harness/tmp.ts';
import { Proc, run } from '../lib/procs.ts';
import { MemGroup } from '../lib/rss.ts';
import { MODULE, rsyncVersion, startRsyncd } from './rsyncd.ts';
import type { Pair, System } from './types.ts';
import { countOneWay } from './wire-count.ts';

export const inotifyRsync: System = {
  id: 'rsync',
  label: 'inotify+rsync',
  modes: ['quick', 'default', 'full'],
  async probe() {
    const w = await run('inotifywait', ['--help'], { timeoutMs: 10_000 }).catch(() => null);
    if (!w || !/inotifywait/.test(w.out))
      throw new Error('inotifywait not installed (apt-get install inotify-tools)');
    return `rsync ${await rsyncVersion()}, inotifywait ${/inotifywait\s+([\d.]+)/.exec(w.out)?.[1] ?? '?'}`;
  },
  async start(): Promise<Pair> {
    const a = await makeTempDir('bench-rs-a');
    const b = await makeTempDir('bench-rs-b');
    const rsyncd = await startRsyncd(b);
    const wire = await countOneWay(rsyncd.port);
    const clients = new Set<number>();
    let running = false;
    let dirty = false;
    let stopped = false;
    const once = async () => {
      const p = new Proc('rsync', 'rsync', [
        '-a',
        '--delete',
        `${a}/`,
        `rsync://127.0.0.1:${wire.toB}/${MODULE}/`,
      ]);
      clients.add(p.pid);
      await p.done;
      clients.delete(p.pid);
    };
    const kick = () => {
      if (stopped) return;
      if (running) {
        dirty = true;
        return;
      }
      running = true;
      void (async () => {
        do {
          dirty = false;
          await once();
        } while (dirty && !stopped);
        running = false;
      })();
    };
    const watcher = new Proc('inotifywait', 'inotifywait', [
      '-m',
      '-r',
      '-e',
      'close_write,create,delete,move',
      '--format',
      '%e %w%f',
      a,
    ]);
    const stop = async () => {
      stopped = true;
      await watcher.stop();
      await rsyncd.proc.stop();
      await wire.close();
    };
    try {
      await watcher.waitForLine(/Watches established/, 30_000);
    } catch (err) {
      await stop();
      throw err;
    }
    watcher.onLine = (line) => {
      if (line.startsWith('Setting up') || line.startsWith('Watches')) return;
      kick();
    };
    const memA = new MemGroup(() => [watcher.pid, ...clients], true);
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
