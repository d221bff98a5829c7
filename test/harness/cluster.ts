// A test cluster of n real daemons on one machine: a temp folder and a port per node and,
// when proxied, a user-space proxy on every link, so a test can cut or slow one link.
// Each node lists every neighbour as --peer (the way users configure a cluster), so with
// proxies a link has one proxy per dialling direction; link(i, j) drives both at once.
import { type Daemon, type DaemonOptions, startDaemon } from './daemon.ts';
import { HarnessError, ProcessExitedError } from './errors.ts';
import { freePort, isListening } from './ports.ts';
import { type CutMode, startProxy, type TcpProxy } from './proxy.ts';
import { makeTempDir } from './tmp.ts';
import { type Edge, edgeKey, partitionEdges, type Topology, topologyEdges } from './topology.ts';
import { type DiffOptions, diffTrees, type SnapshotOptions, snapshotTree, type Tree } from './tree.ts';
import { waitForValue } from './wait.ts';

export interface ClusterOptions {
  n: number;
  topology?: Topology;
  /** Route every link through a proxy (default true); false: daemons dial each other directly. */
  proxied?: boolean;
  secret?: string;
  /** 'both' (default): each end lists the other as a peer; 'lower': only node min(i, j) dials. */
  dial?: 'both' | 'lower';
  /** Give each node a state folder outside its synced folder (--state). */
  separateState?: boolean;
  /** --node-id for node i (default: not passed, the daemon picks one). */
  nodeId?: (i: number) => string;
  logLevel?: string;
  /** Extra CLI arguments for node i. */
  args?: (i: number) => string[];
  env?: Record<string, string | undefined>;
  /** Script to run instead of bin/resonate.js (harness tests use a fake daemon). */
  entry?: string;
  /** When a node counts as started: its port accepts TCP (default), a log line, or no wait. */
  ready?: 'port' | RegExp | false;
  readyTimeoutMs?: number;
}

export interface ClusterNode {
  index: number;
  name: string;
  dir: string;
  port: number;
  stateDir?: string;
  daemon: Daemon;
}

/** One link's controls (both proxies of the pair); bytes seen from i: up = i -> j, down = j -> i. */
export interface Link {
  readonly i: number;
  readonly j: number;
  readonly proxies: readonly TcpProxy[];
  cut(mode?: CutMode): void;
  restore(): void;
  readonly isCut: boolean;
  setDelay(ms: number): void;
  setDropProbability(p: number): void;
  readonly bytes: { readonly up: number; readonly down: number };
  resetCounters(): void;
  readonly connections: number;
  readonly accepted: number;
  readonly dropped: number;
}

export interface Cluster {
  nodes: ClusterNode[];
  edges: Edge[];
  link(i: number, j: number): Link;
  /** Cut every link between groups and restore every link inside one (absolute, not cumulative). */
  partition(groups: number[][], mode?: CutMode): void;
  heal(): void;
  /** Payload bytes carried by all proxies, both ways (for benchmarks). */
  totalBytes(): number;
  snapshots(opts?: SnapshotOptions): Promise<Tree[]>;
  /** Wait until every node's folder matches node 0's; returns that tree. */
  waitConverged(opts?: SnapshotOptions & DiffOptions & { timeoutMs?: number }): Promise<Tree>;
  /** Stop all daemons (SIGTERM) and close the proxies; returns the exit codes. Folders stay (cleanupAll). */
  stop(): Promise<(number | null)[]>;
}

/** A Link over the proxies of one pair; `from[k]` is the node that dials through proxies[k]. */
function makeLink(i: number, j: number, proxies: TcpProxy[], from: number[]): Link {
  const sum = (f: (p: TcpProxy, k: number) => number) => proxies.reduce((acc, p, k) => acc + f(p, k), 0);
  return {
    i,
    j,
    proxies,
    cut: (mode) => {
      for (const p of proxies) p.cut(mode);
    },
    restore: () => {
      for (const p of proxies) p.restore();
    },
    get isCut() {
      return proxies.some((p) => p.isCut);
    },
    setDelay: (ms) => {
      for (const p of proxies) p.setDelay(ms);
    },
    setDropProbability: (prob) => {
      for (const p of proxies) p.setDropProbability(prob);
    },
    bytes: {
      get up() {
        return sum((p, k) => (from[k] === i ? p.bytes.up : p.bytes.down));
      },
      get down() {
        return sum((p, k) => (from[k] === i ? p.bytes.down : p.bytes.up));
      },
    },
    resetCounters: () => {
      for (const p of proxies) p.resetCounters();
    },
    get connections() {
      return sum((p) => p.connections);
    },
    get accepted() {
      return sum((p) => p.accepted);
    },
    get dropped() {
      return sum((p) => p.dropped);
    },
  };
}

async function whenReady(
  node: ClusterNode,
  ready: ClusterOptions['ready'],
  timeoutMs: number,
): Promise<void> {
  if (ready === false) return;
  const d = node.daemon;
  if (ready instanceof RegExp) {
    await d.waitForLine(ready, timeoutMs); // rejects by itself if the daemon exits first
    return;
  }
  // Stop polling as soon as the daemon is gone, instead of until the timeout.
  const state = await waitForValue(
    async () => (!d.running ? 'exited' : (await isListening(node.port)) ? 'listening' : undefined),
    { timeoutMs, intervalMs: 25, message: `${node.name} to listen on port ${node.port}` },
  );
  if (state === 'exited') {
    throw new ProcessExitedError(
      `${node.name} exited while starting (${JSON.stringify(d.exit)})\n${d.tail()}`,
    );
  }
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const { n, topology = 'mesh', proxied = true, dial = 'both' } = opts;
  const edges = topologyEdges(n, topology);
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const peers: string[][] = Array.from({ length: n }, () => []);
  const proxies: TcpProxy[] = [];
  // Per linked pair: its proxies and the node that dials through each.
  const pairs = new Map<string, { proxies: TcpProxy[]; from: number[] }>();
  const started: Daemon[] = [];
  const shutdown = async () => {
    const codes = await Promise.all(started.map((d) => d.stop()));
    await Promise.all(proxies.map((p) => p.close()));
    return codes;
  };

  try {
    for (const [a, b] of edges) {
      const pairProxies: TcpProxy[] = [];
      const from: number[] = [];
      for (const [src, dst] of dial === 'both' ? [[a, b] as const, [b, a] as const] : [[a, b] as const]) {
        if (proxied) {
          // A port from the same registry as the daemons' (a kernel-chosen one could be a
          // daemon's port that was free a moment ago but is not yet bound).
          const p = await startProxy({
            target: { host: '127.0.0.1', port: ports[dst]! },
            listenPort: await freePort(),
            seed: `link-${src}-${dst}`,
          });
          proxies.push(p);
          pairProxies.push(p);
          from.push(src);
          peers[src]!.push(`127.0.0.1:${p.port}`);
        } else {
          peers[src]!.push(`127.0.0.1:${ports[dst]}`);
        }
      }
      if (proxied) pairs.set(edgeKey(a, b), { proxies: pairProxies, from });
    }

    const nodes: ClusterNode[] = await Promise.all(
      ports.map(async (port, index) => {
        const name = `node${index}`;
        const dir = await makeTempDir(`resonate-${name}`);
        const stateDir = opts.separateState ? await makeTempDir(`resonate-${name}-state`) : undefined;
        const dopts: DaemonOptions = {
          dir,
          port,
          peers: peers[index]!,
          name,
          args: opts.args?.(index) ?? [],
        };
        if (stateDir !== undefined) dopts.stateDir = stateDir;
        if (opts.secret !== undefined) dopts.secret = opts.secret;
        if (opts.nodeId) dopts.nodeId = opts.nodeId(index);
        if (opts.logLevel !== undefined) dopts.logLevel = opts.logLevel;
        if (opts.env !== undefined) dopts.env = opts.env;
        if (opts.entry !== undefined) dopts.entry = opts.entry;
        const daemon = await startDaemon(dopts);
        started.push(daemon);
        return stateDir === undefined
          ? { index, name, dir, port, daemon }
          : { index, name, dir, port, stateDir, daemon };
      }),
    );
    await Promise.all(
      nodes.map((node) => whenReady(node, opts.ready ?? 'port', opts.readyTimeoutMs ?? 30_000)),
    );

    const link = (i: number, j: number): Link => {
      if (!proxied) throw new HarnessError('link(): this cluster was started with proxied: false');
      const pair = pairs.get(edgeKey(i, j));
      if (!pair)
        throw new HarnessError(`link(): nodes ${i} and ${j} are not linked in a ${topology} of ${n}`);
      return makeLink(i, j, pair.proxies, pair.from);
    };
    return {
      nodes,
      edges,
      link,
      partition(groups, mode) {
        const { cut, kept } = partitionEdges(n, edges, groups);
        for (const [a, b] of kept) link(a, b).restore();
        for (const [a, b] of cut) link(a, b).cut(mode);
      },
      heal() {
        for (const p of proxies) p.restore();
      },
      totalBytes: () => proxies.reduce((acc, p) => acc + p.bytes.up + p.bytes.down, 0),
      snapshots: (o) => Promise.all(nodes.map((node) => snapshotTree(node.dir, o))),
      async waitConverged(o = {}) {
        let diffs: string[] = [];
        return waitForValue(
          async () => {
            const trees = await Promise.all(nodes.map((node) => snapshotTree(node.dir, o)));
            diffs = trees
              .slice(1)
              .flatMap((t, k) => diffTrees(trees[0]!, t, { ...o, names: ['node0', `node${k + 1}`] }));
            return diffs.length === 0 ? trees[0] : undefined;
          },
          {
            timeoutMs: o.timeoutMs ?? 30_000,
            intervalMs: 100,
            message: `${n} folders to converge`,
            describe: () => diffs.slice(0, 50).join('\n'),
          },
        );
      },
      stop: shutdown,
    };
  } catch (err) {
    for (const d of started) d.dumpLogs();
    await shutdown();
    throw err;
  }
}
