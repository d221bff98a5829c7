// A cluster of real node cores in one process: each with an in-memory folder (MemFs), an
// in-memory LevelDB (memory-level) and the deterministic clock and network. The simulator
// drives users, partitions, crashes and restarts, and runs everything to quiescence.
import { MemoryLevel } from 'memory-level';
import { removeStaleTemps } from '../../src/fs/stale-temps.ts';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';
import { Node } from '../../src/node/node.ts';
import type { Env } from '../../src/util/env.ts';
import { createLogger, type Logger, silentLogger } from '../../src/util/logger.ts';
import { randomBytes, rng, SimClock, simEnv } from './env.ts';
import { MemFs } from './memfs.ts';
import type { SnapshotEntry } from './memfs-snapshot.ts';
import { SimNetwork } from './network.ts';

/** Timers due sooner than this are part of ongoing work; later ones are background. */
const FOREGROUND_MS = 500;

export interface SimOptions {
  n: number;
  seed: number;
  faults?: { drop?: number; duplicate?: number; reorder?: number };
  /** Only these pairs can ever talk (default: full mesh). */
  edges?: [number, number][];
  /** Per-node wall clock skew in ms (HLC must cope). */
  skewMs?: number[];
  verbose?: boolean;
}

export interface SimNode {
  index: number;
  name: string;
  fs: MemFs;
  db: Db;
  store: Store;
  node: Node;
  env: Env;
  alive: boolean;
  incarnation: number;
}

export class SimCluster {
  readonly clock = new SimClock();
  readonly net: SimNetwork;
  readonly nodes: SimNode[] = [];
  private readonly random: () => number;
  readonly logger: Logger;

  constructor(readonly opts: SimOptions) {
    this.random = rng(opts.seed);
    this.net = new SimNetwork(rng(opts.seed ^ 0x5eed), opts.faults ?? {}, opts.edges ?? null);
    this.logger = opts.verbose ? createLogger({ level: 'debug', now: () => this.clock.now }) : silentLogger;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.opts.n; i++) {
      const name = `n${i}`;
      const fs = this.makeFs(i, null);
      const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' }) as unknown as Db;
      this.nodes.push(await this.boot(i, name, fs, db, 0));
    }
    for (const n of this.nodes) this.join(n);
    await this.settle({ converge: true });
  }

  private makeFs(i: number, from: MemFs | null): MemFs {
    const opts = {
      now: () => this.clock.now,
      random: randomBytes(rng(this.opts.seed * 31 + i)),
      schedule: (fn: () => void) => {
        this.clock.schedule(i, 1, fn);
      },
      root: `/sim/n${i}`,
    };
    return from ? from.restart(opts) : new MemFs(opts);
  }

  private async boot(i: number, name: string, fs: MemFs, db: Db, incarnation: number): Promise<SimNode> {
    const alive = { value: true };
    const env = simEnv(
      this.clock,
      i,
      this.opts.seed * 1000 + i * 10 + incarnation,
      this.opts.skewMs?.[i] ?? 0,
      () => alive.value,
    );
    const store = await Store.open(db, { nodeId: name, random: env.random });
    const node = new Node({
      store,
      fs,
      env,
      logger: this.logger.child({ node: name }),
      clusterSize: this.opts.n,
      antiEntropyMs: 2000,
      watch: (onEvents) => {
        fs.onEvents = onEvents;
        return {
          backend: 'sim',
          ready: async () => {},
          close: async () => {
            fs.onEvents = null;
          },
        };
      },
      cleanTemps: async () => (await removeStaleTemps(fs)).length,
    });
    const sim: SimNode = {
      index: i,
      name,
      fs,
      db,
      store,
      node,
      env,
      get alive() {
        return alive.value;
      },
      set alive(v: boolean) {
        alive.value = v;
      },
      incarnation,
    };
    const starting = node.start();
    await this.runUntil(() => starting);
    await starting;
    return sim;
  }

  private join(n: SimNode): void {
    this.net.join({
      index: n.index,
      nodeId: n.name,
      origin: n.store.origin,
      attach: (l) => n.node.attach(l),
    });
  }

  user(i: number): MemFs['user'] {
    return this.nodes[i]!.fs.user;
  }

  partition(groups: number[][]): void {
    this.net.partition(groups);
  }

  heal(): void {
    this.net.heal();
  }

  /** Lose all memory (and the watcher's undelivered events); keep the disk and the log. */
  async crash(i: number): Promise<void> {
    const n = this.nodes[i]!;
    if (!n.alive) return;
    n.alive = false;
    this.net.leave(i);
    this.clock.cancelOwner(i);
    const copy = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' }) as unknown as Db;
    const entries: { type: 'put'; key: string; value: Uint8Array }[] = [];
    for await (const [key, value] of n.db.iterator()) entries.push({ type: 'put', key, value });
    await copy.open();
    if (entries.length) await copy.batch(entries);
    n.db = copy;
    n.fs = this.makeFs(i, n.fs);
  }

  async restart(i: number): Promise<void> {
    const n = this.nodes[i]!;
    if (n.alive) return;
    const next = await this.boot(i, n.name, n.fs, n.db, n.incarnation + 1);
    this.nodes[i] = next;
    this.join(next);
  }

  /** Let pending promise callbacks run. */
  private async flush(): Promise<void> {
    for (let k = 0; k < 3; k++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Drive time and delivery until `done()` resolves (used while a node starts). */
  private async runUntil(done: () => Promise<unknown>): Promise<void> {
    let finished = false;
    done().then(
      () => {
        finished = true;
      },
      () => {
        finished = true;
      },
    );
    for (let i = 0; i < 100_000 && !finished; i++) {
      await this.flush();
      if (finished) return;
      if (this.net.deliverOne()) continue;
      if (this.clock.runDue()) continue;
      const next = this.clock.nextAt();
      if (next !== null) {
        this.clock.advanceTo(next);
        this.clock.runDue();
      }
    }
  }

  private get busy(): boolean {
    return this.nodes.some((n) => n.alive && !n.node.idle);
  }

  private get converged(): boolean {
    const live = this.nodes.filter((n) => n.alive);
    const clocks = live.map((n) => JSON.stringify(Object.entries(n.store.clock().vv).sort()));
    return clocks.every((c) => c === clocks[0]) && live.every((n) => n.node.waitingPaths === 0);
  }

  /**
   * Run until nothing is in flight, no node has work and no short timer is pending (the
   * long ones are anti-entropy and retries). With `converge`, go on (firing those long
   * timers) until all live nodes hold the same log and nothing waits for content.
   * Returns the steps taken; more than `maxSteps` is a termination failure.
   */
  async settle(opts: { converge?: boolean; maxSteps?: number } = {}): Promise<number> {
    const maxSteps = opts.maxSteps ?? 200_000;
    let stuck = 0;
    for (let step = 0; step < maxSteps; step++) {
      await this.flush();
      if (this.net.deliverOne()) {
        stuck = 0;
        continue;
      }
      if (this.clock.runDue()) continue;
      const next = this.clock.nextAt();
      const foreground = next !== null && next - this.clock.now < FOREGROUND_MS;
      if (this.busy || foreground) {
        if (next !== null) this.clock.advanceTo(next);
        else if (++stuck > 1000) throw new Error('simulation stuck: a node is busy with nothing scheduled');
        continue;
      }
      if (!opts.converge || this.converged) return step;
      if (next === null) return step;
      this.clock.advanceTo(next);
    }
    throw new Error(`no quiescence within ${maxSteps} steps`);
  }

  snapshot(i: number): SnapshotEntry[] {
    return this.nodes[i]!.fs.snapshot();
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) if (n.alive) await n.node.stop().catch(() => {});
  }
}
