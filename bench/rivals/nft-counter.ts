// Bytes on the wire counted by the kernel: an nftables table per pair with counters on the
// loopback's output hook, per listening port and direction (what anchors.md suggests first).
// Unlike the counting proxy, nothing relays the traffic: a 512 MiB transfer took one more
// TCP hop and ~0.2-0.5 s of the bench process's CPU through the proxy, on the same two cores
// the daemons were measured on. Needs root and the `nft` tool; otherwise the proxy is used.
//
// A counter counts IP packets. Payload = bytes - packets x (IPv4 20 + TCP 20 + timestamps 12):
// exact for data segments and pure acknowledgements (SYNs, which carry more options, are
// not counted); a segment TCP sent again is counted again (it did cross the wire twice).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { WireCount } from './wire-count.ts';

const FAMILY = 'inet';
const live = new Set<string>();
let seq = 0;
let usable: boolean | null = null;

function nft(args: string[], input?: string): string {
  return execFileSync('nft', args, {
    encoding: 'utf8',
    input: input ?? '',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 10_000,
  });
}

function headerBytes(): number {
  let ts = '1';
  try {
    ts = readFileSync('/proc/sys/net/ipv4/tcp_timestamps', 'utf8').trim();
  } catch {}
  return 40 + (ts === '0' ? 0 : 12);
}

function dropTable(name: string): void {
  if (!live.delete(name)) return;
  try {
    nft(['delete', 'table', FAMILY, name]);
  } catch {}
}

/** Whether this process can count with nftables (root, `nft` installed, a table created). */
export function nftUsable(): boolean {
  if (usable !== null) return usable;
  const probe = `resonate_bench_probe_${process.pid}`;
  try {
    nft(['-f', '-'], `table ${FAMILY} ${probe} {}\n`);
    nft(['delete', 'table', FAMILY, probe]);
    usable = true;
    process.once('exit', () => {
      for (const t of [...live]) dropTable(t);
    });
  } catch {
    usable = false;
  }
  return usable;
}

interface Counted {
  ab: number;
  ba: number;
}

/**
 * Count the traffic of connections to or from the given listening ports: `toB` traffic
 * (dport) and the replies on those connections (sport) are split into a to b and b to a.
 * `portsOfA`: ports side a listens on (b dials them); `portsOfB`: ports b listens on.
 */
export function nftCounter(portsOfA: number[], portsOfB: number[]): Omit<WireCount, 'toA' | 'toB'> {
  const table = `resonate_bench_${process.pid}_${++seq}`;
  const rule = (dir: 'sport' | 'dport', port: number, counter: string) =>
    `    meta nfproto ipv4 oifname "lo" tcp ${dir} ${port} counter name ${counter} accept\n`;
  // a to b: what goes to b's ports, and what comes from a's ports; b to a the other way.
  // A packet is counted by the first rule it matches: Syncthing dials from its own listening
  // port, so its packets match two rules (a's port to b's), which counted them twice.
  const rules = [
    ...portsOfB.map((p) => rule('dport', p, 'ab') + rule('sport', p, 'ba')),
    ...portsOfA.map((p) => rule('sport', p, 'ab') + rule('dport', p, 'ba')),
  ].join('');
  nft(
    ['-f', '-'],
    `table ${FAMILY} ${table} {\n  counter ab {}\n  counter ba {}\n` +
      `  chain out {\n    type filter hook output priority 0; policy accept;\n` +
      // A SYN carries options but no payload (rsync-based tools connect once per change).
      `    tcp flags & syn == syn accept\n${rules}  }\n}\n`,
  );
  live.add(table);
  const header = headerBytes();
  const read = (): Counted => {
    const out = JSON.parse(nft(['-j', 'list', 'counters', 'table', FAMILY, table])) as {
      nftables: { counter?: { name: string; packets: number; bytes: number } }[];
    };
    const got: Counted = { ab: 0, ba: 0 };
    for (const item of out.nftables) {
      const c = item.counter;
      if (c && (c.name === 'ab' || c.name === 'ba')) got[c.name] = c.bytes - c.packets * header;
    }
    return got;
  };
  let base = read();
  return {
    bytes: () => {
      const now = read();
      return { aToB: now.ab - base.ab, bToA: now.ba - base.ba };
    },
    reset: () => {
      base = read();
    },
    close: async () => dropTable(table),
  };
}
