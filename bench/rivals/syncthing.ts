// Syncthing as two instances on loopback, set up the way /work/shared/anchors.md says:
// keys from `syncthing generate`, then our own config.xml (listen on 127.0.0.1, every
// discovery, relay, NAT, upgrade and reporting feature off, the peer's address given
// explicitly, its own port or the counting proxy), one shared folder with the watcher delay under
// test. The second instance starts only once the first answers (two 1.19 instances dialling
// each other at the same moment can stall 20 s). Ready: connected, folder idle on both.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../test/harness/ports.ts';
import { makeTempDir } from '../../test/harness/tmp.ts';
import { Proc, run } from '../lib/procs.ts';
import { MemGroup } from '../lib/rss.ts';
import { sleep } from '../lib/settle.ts';
import type { Pair, System } from './types.ts';
import { countPair } from './wire-count.ts';

const FOLDER = 'bench';
const OWN = (name: string) =>
  name === '.stfolder' || name === '.stversions' || name.startsWith('.syncthing.');

interface Side {
  home: string;
  dir: string;
  id: string;
  port: number;
  gui: number;
  key: string;
}

async function makeSide(label: string): Promise<Side> {
  const home = await makeTempDir(`bench-st-${label}-home`);
  const dir = await makeTempDir(`bench-st-${label}`);
  const gen = await run('syncthing', ['generate', `--home=${home}`, '--no-default-folder'], {
    timeoutMs: 30_000,
  });
  const id = /Device ID:\s*([A-Z0-9-]+)/.exec(gen.out)?.[1];
  if (gen.code !== 0 || !id) throw new Error(`syncthing generate failed:\n${gen.out}`);
  return {
    home,
    dir,
    id,
    port: await freePort(),
    gui: await freePort(),
    key: randomBytes(16).toString('hex'),
  };
}

function config(self: Side, peer: Side, peerVia: number, delayS: number): string {
  const device = (s: Side, name: string, addr: string) =>
    `<device id="${s.id}" name="${name}" compression="metadata" introducer="false"><address>${addr}</address></device>`;
  return `<configuration version="36">
  <folder id="${FOLDER}" label="${FOLDER}" path="${self.dir}" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="${delayS}" ignorePerms="false" autoNormalize="true">
    <device id="${self.id}"></device>
    <device id="${peer.id}"></device>
  </folder>
  ${device(self, 'self', 'dynamic')}
  ${device(peer, 'peer', `tcp://127.0.0.1:${peerVia}`)}
  <gui enabled="true" tls="false"><address>127.0.0.1:${self.gui}</address><apikey>${self.key}</apikey></gui>
  <options>
    <listenAddress>tcp://127.0.0.1:${self.port}</listenAddress>
    <globalAnnounceEnabled>false</globalAnnounceEnabled>
    <localAnnounceEnabled>false</localAnnounceEnabled>
    <relaysEnabled>false</relaysEnabled>
    <natEnabled>false</natEnabled>
    <startBrowser>false</startBrowser>
    <crashReportingEnabled>false</crashReportingEnabled>
    <urAccepted>-1</urAccepted>
    <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
    <setLowPriority>false</setLowPriority>
  </options>
</configuration>
`;
}

async function api<T>(s: Side, path: string): Promise<T | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${s.gui}${path}`, { headers: { 'X-API-Key': s.key } });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`syncthing: no ${what} in ${ms} ms`);
    await sleep(100);
  }
}

function serve(s: Side, name: string): Proc {
  return new Proc(
    name,
    'syncthing',
    ['serve', `--home=${s.home}`, '--no-browser', '--no-restart', '--no-upgrade'],
    {
      env: { ...process.env, STNORESTART: '1', STNOUPGRADE: '1', STNODEFAULTFOLDER: '1' },
    },
  );
}

export function syncthing(delayS: number): System {
  return {
    id: delayS === 1 ? 'syncthing' : `syncthing${delayS}`,
    label: `Syncthing ${delayS} s`,
    modes: delayS === 1 ? ['default', 'full'] : ['full'],
    async probe() {
      const r = await run('syncthing', ['--version'], { timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error('syncthing not installed (apt-get install syncthing)');
      return /v[\d.]+\S*/.exec(r.out)?.[0] ?? r.out.trim();
    },
    async start(): Promise<Pair> {
      const a = await makeSide('a');
      const b = await makeSide('b');
      const wire = await countPair(a.port, b.port);
      await writeFile(join(a.home, 'config.xml'), config(a, b, wire.toB, delayS));
      await writeFile(join(b.home, 'config.xml'), config(b, a, wire.toA, delayS));
      const procs: Proc[] = [];
      const stop = async () => {
        await Promise.all(procs.map((p) => p.stop()));
        await wire.close();
      };
      try {
        procs.push(serve(a, 'syncthing-a'));
        await until('API on a', 30_000, async () => (await api(a, '/rest/system/ping')) !== null);
        procs.push(serve(b, 'syncthing-b'));
        for (const [s, peer] of [
          [a, b],
          [b, a],
        ] as const) {
          await until('connection', 60_000, async () => {
            const c = await api<{ connections: Record<string, { connected: boolean }> }>(
              s,
              '/rest/system/connections',
            );
            return c?.connections[peer.id]?.connected === true;
          });
          await until('idle folder', 60_000, async () => {
            const st = await api<{ state: string }>(s, `/rest/db/status?folder=${FOLDER}`);
            return st?.state === 'idle';
          });
        }
      } catch (err) {
        const logs = procs.map((p) => `${p.name}:\n${p.tail()}`).join('\n');
        await stop();
        throw new Error(`${(err as Error).message}\n${logs}`);
      }
      const memA = new MemGroup(() => [procs[0]!.pid], true);
      const memB = new MemGroup(() => [procs[1]!.pid], true);
      return {
        a: a.dir,
        b: b.dir,
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
}
