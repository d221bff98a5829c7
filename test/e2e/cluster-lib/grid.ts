// A cluster of real daemons for the quorum end-to-end tests: named nodes (--node-id), a
// proxy on every link (one per dialling direction, so a partition cuts a link both ways),
// `--cluster` listing every member's real address (so N is right in a line too), and a
// short gossip period. Unlike harness/cluster.ts, the addresses are known before any
// daemon starts, which is what --cluster needs.
import { type Daemon, dumpOnFailure, type LogLine, startDaemon } from '../../harness/daemon.ts';
import { freePort } from '../../harness/ports.ts';
import { startProxy, type TcpProxy } from '../../harness/proxy.ts';
import { makeTempDir } from '../../harness/tmp.ts';
import { type Edge, edgeKey, partitionEdges, type Topology, topologyEdges } from '../../harness/topology.ts';
import { READY, SYNC_TIMEOUT } from '../lib/e2e.ts';

/** Gossip / anti-entropy period the daemons run with (RESONATE_GOSSIP_MS). */
export const GOSSIP_MS = 500;

export interface GridNode {
  index: number;
  /** --node-id, also the node part of conflict copy names. */
  id: string;
  dir: string;
  port: number;
  daemon: Daemon;
}

export interface Grid {
  nodes: GridNode[];
  edges: Edge[];
  /** Cut every link between groups (nodes in no group form one more group); restore the rest. */
  partition(groups: number[][]): void;
  heal(): void;
  /** SIGTERM these nodes and wait until they are gone (exit code 0 expected). */
  stop(indexes: number[]): Promise<(number | null)[]>;
  /** Start these (stopped) nodes again with the same arguments; resolves once each is ready. */
  restart(indexes: number[]): Promise<void>;
  /** Stop every daemon for good and close the proxies (folders stay until cleanupHarness). */
  close(): Promise<void>;
}

export interface GridOptions {
  ids: string[];
  topology: Topology;
  logLevel?: string;
}

/** A proxy on a port from freePort (never one handed out to a daemon), retried if taken meanwhile. */
async function proxyTo(port: number, seed: string): Promise<TcpProxy> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startProxy({ target: { host: '127.0.0.1', port }, listenPort: await freePort(), seed });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

/**
 * Start a grid, run fn on it (printing every daemon's output if it throws), and close the
 * grid either way, so later tests do not share the two cores with idle daemons.
 */
export async function withGrid<T>(opts: GridOptions, fn: (g: Grid) => Promise<T>): Promise<T> {
  const g = await dumpOnFailure(() => startGrid(opts));
  try {
    return await dumpOnFailure(() => fn(g));
  } finally {
    await g.close();
  }
}

/** Another process can take a port between freePort() and the daemon's bind: start afresh then. */
export async function startGrid(opts: GridOptions): Promise<Grid> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGridOnce(opts);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 3) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startGridOnce(opts: GridOptions): Promise<Grid> {
  const n = opts.ids.length;
  const edges = topologyEdges(n, opts.topology);
  const ports = await Promise.all(opts.ids.map(() => freePort()));
  const cluster = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const peers: string[][] = opts.ids.map(() => []);
  const links = new Map<string, TcpProxy[]>();
  for (const [a, b] of edges) {
    const pair: TcpProxy[] = [];
    for (const [src, dst] of [
      [a, b],
      [b, a],
    ] as const) {
      const proxy = await proxyTo(ports[dst]!, `${src}-${dst}`);
      pair.push(proxy);
      peers[src]!.push(`127.0.0.1:${proxy.port}`);
    }
    links.set(edgeKey(a, b), pair);
  }
  const nodes = await Promise.all(
    opts.ids.map(async (id, index): Promise<GridNode> => {
      const dir = await makeTempDir(`resonate-${id}`);
      const daemon = await startDaemon({
        dir,
        port: ports[index]!,
        peers: peers[index]!,
        nodeId: id,
        name: id,
        args: ['--cluster', cluster],
        env: { RESONATE_GOSSIP_MS: String(GOSSIP_MS) },
        ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
      });
      return { index, id, dir, port: ports[index]!, daemon };
    }),
  );
  const proxies = [...links.values()].flat();
  try {
    await Promise.all(nodes.map((node) => node.daemon.waitForLine(READY, SYNC_TIMEOUT)));
  } catch (err) {
    const taken = nodes.some((node) => /port \d+ is already in use/.test(node.daemon.tail()));
    if (!taken) throw err;
    await Promise.all(nodes.map((node) => node.daemon.stop()));
    for (const node of nodes) node.daemon.unregister();
    await Promise.all(proxies.map((p) => p.close()));
    throw new PortTaken(String(err));
  }
  const setLink = (e: Edge, cut: boolean) => {
    for (const p of links.get(edgeKey(e[0], e[1]))!) {
      if (cut) p.cut('reset');
      else p.restore();
    }
  };
  return {
    nodes,
    edges,
    partition(groups) {
      const { cut, kept } = partitionEdges(n, edges, groups);
      for (const e of kept) setLink(e, false);
      for (const e of cut) setLink(e, true);
    },
    heal() {
      for (const e of edges) setLink(e, false);
    },
    stop: (indexes) => Promise.all(indexes.map((i) => nodes[i]!.daemon.stop())),
    async close() {
      await Promise.all(nodes.map((node) => node.daemon.stop()));
      for (const node of nodes) node.daemon.unregister();
      await Promise.all(proxies.map((p) => p.close()));
    },
    async restart(indexes) {
      await Promise.all(
        indexes.map(async (i) => {
          const d = nodes[i]!.daemon;
          await d.restart();
          await d.waitForLine(READY, SYNC_TIMEOUT);
        }),
      );
    },
  };
}

/** The first output line of d matching re at or after position since (from d.mark()). */
export function findLine(d: Daemon, re: RegExp, since: number): LogLine | undefined {
  const lines = d.lines();
  const first = d.mark() - lines.length;
  return lines.slice(Math.max(0, since - first)).find((l) => re.test(l.text));
}
