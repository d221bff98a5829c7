// Our daemon, two of them on fresh temp folders, each listing the other as --peer (its own
// port, or the counting proxy's: wire-count.ts). Ready = both logged "ready"
// and "peer connected". With a profile dir they run under the inspector's CPU profiler.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Daemon, startDaemon } from '../../test/harness/daemon.ts';
import { freePort } from '../../test/harness/ports.ts';
import { makeTempDir } from '../../test/harness/tmp.ts';
import { MemGroup } from '../lib/rss.ts';
import type { Pair, StartOptions, System } from './types.ts';
import { countPair } from './wire-count.ts';

const PROFILED_ENTRY = fileURLToPath(new URL('../lib/profiled-entry.ts', import.meta.url));
export const READY = /\binfo\s+ready\b/;
const OWN = (name: string) => name === '.resonate' || name.startsWith('.resonate-tmp-');

export interface SoloOptions {
  dir: string;
  port: number;
  peers?: string[];
  name: string;
  profileDir?: string;
}

/** One daemon on an existing folder (the scan scenario starts it on a filled folder). */
export function startResonate(o: SoloOptions): Promise<Daemon> {
  return startDaemon({
    dir: o.dir,
    port: o.port,
    peers: o.peers ?? [],
    name: o.name,
    logLevel: 'info',
    maxLines: 5000,
    ...(o.profileDir
      ? {
          entry: PROFILED_ENTRY,
          env: { RESONATE_BENCH_PROFILE: join(o.profileDir, `${o.name}.cpuprofile`) },
        }
      : {}),
  });
}

export const resonate: System = {
  id: 'resonate',
  label: 'resonate',
  modes: ['quick', 'default', 'full'],
  async probe() {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  },
  async start(opts: StartOptions): Promise<Pair> {
    const [portA, portB] = [await freePort(), await freePort()];
    const wire = await countPair(portA, portB);
    const a = await makeTempDir('bench-a');
    const b = await makeTempDir('bench-b');
    const profile = opts.profileDir ? { profileDir: opts.profileDir } : {};
    const da = await startResonate({
      dir: a,
      port: portA,
      peers: [`127.0.0.1:${wire.toB}`],
      name: `${opts.scenario}-a`,
      ...profile,
    });
    const db = await startResonate({
      dir: b,
      port: portB,
      peers: [`127.0.0.1:${wire.toA}`],
      name: `${opts.scenario}-b`,
      ...profile,
    });
    const stop = async () => {
      await Promise.all([da.stop(), db.stop()]);
      da.unregister();
      db.unregister();
      await wire.close();
    };
    try {
      for (const d of [da, db]) {
        await d.waitForLine(READY, 60_000);
        await d.waitForLine(/peer connected/, 30_000);
      }
    } catch (err) {
      await stop();
      throw err;
    }
    const memA = new MemGroup(() => [da.pid], false);
    const memB = new MemGroup(() => [db.pid], false);
    return {
      a,
      b,
      twoWay: true,
      ignored: OWN,
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
