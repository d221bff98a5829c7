// Running one random schedule on a simulated cluster and checking what must hold after.
import assert from 'node:assert/strict';
import { SimCluster } from './cluster.ts';
import { type Action, Oracle } from './schedule.ts';

export const RUNS = Number(process.env.SIM_RUNS ?? 200);

export interface CaseResult {
  cluster: SimCluster;
  oracle: Oracle;
}

/** Run a schedule, then heal, restart everyone and settle; check the universal properties. */
export async function runCase(
  n: number,
  seed: number,
  actions: Action[],
  faults: boolean,
): Promise<CaseResult> {
  const c = new SimCluster({
    n,
    seed,
    faults: faults ? { duplicate: 0.05, reorder: 0.05, drop: 0.02 } : {},
    skewMs: faults ? Array.from({ length: n }, (_, i) => (i % 2 ? 1500 : -700) * i) : undefined,
  });
  await c.start();
  const oracle = new Oracle(c);
  try {
    for (const a of actions) await oracle.apply(a);
    c.heal();
    for (let i = 0; i < n; i++) await c.restart(i);
    await c.settle({ converge: true, maxSteps: 100_000 });
    checkConverged(c);
    checkNoLostWrite(c, oracle);
    return { cluster: c, oracle };
  } finally {
    await c.stop();
  }
}

export function checkConverged(c: SimCluster): void {
  const first = c.snapshot(0);
  for (let i = 1; i < c.nodes.length; i++) {
    assert.deepEqual(c.snapshot(i), first, `folder of node ${i} differs from node 0`);
    assert.deepEqual(sortedClock(c, i), sortedClock(c, 0), `log of node ${i} differs from node 0`);
  }
}

function sortedClock(c: SimCluster, i: number): [string, number][] {
  return Object.entries(c.nodes[i]!.store.clock().vv).sort();
}

export function checkNoLostWrite(c: SimCluster, o: Oracle): void {
  for (let i = 0; i < c.nodes.length; i++) {
    const present = new Set(c.snapshot(i).map((e) => e.sha256));
    for (const w of o.written) {
      if (o.superseded.has(w)) continue;
      assert.ok(present.has(w), `node ${i} lost a write nobody replaced knowingly (${w.slice(0, 12)})`);
    }
  }
}
