// Running one random schedule on a simulated cluster and checking what must hold after.
import assert from 'node:assert/strict';
import fc from 'fast-check';
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
  opts: { verbose?: boolean; dump?: boolean } = {},
): Promise<CaseResult> {
  const c = new SimCluster({
    n,
    seed,
    verbose: opts.verbose,
    faults: faults ? { duplicate: 0.05, reorder: 0.05, drop: 0.02 } : {},
    skewMs: faults ? Array.from({ length: n }, (_, i) => (i % 2 ? 1500 : -700) * i) : undefined,
  });
  await c.start();
  const oracle = new Oracle(c);
  try {
    for (const a of actions) {
      await oracle.apply(a);
      await checkQuorumSafety(c);
    }
    c.heal();
    for (let i = 0; i < n; i++) await c.restart(i);
    await c.settle({ converge: true, maxSteps: 100_000 });
    if (opts.dump) await dumpState(c);
    checkConverged(c);
    checkNoLostWrite(c, oracle);
    await checkQuorumSafety(c);
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

/** On every node, at most one live version of any path counts as committed. */
export async function checkQuorumSafety(c: SimCluster): Promise<void> {
  for (const n of c.nodes) {
    if (!n.alive) continue;
    for await (const [path, head] of n.store.heads()) {
      if (head.versions.length < 2) continue;
      const committed = head.versions.filter((v) => n.node.members.isCommitted(path, v));
      assert.ok(
        committed.length <= 1,
        `${n.name}: ${committed.length} concurrent committed versions of ${path}`,
      );
    }
  }
}

/** Every node's log, heads and file index, for debugging a replay. */
export async function dumpState(c: SimCluster): Promise<void> {
  const { KIND_NAMES } = await import('../../src/proto/types.ts');
  for (const n of c.nodes) {
    console.log(
      `=== ${n.name} disk: ${c
        .snapshot(n.index)
        .map((e) => e.path)
        .join(' ')}`,
    );
    for await (const { op } of n.store.allOps()) {
      console.log(
        `  op ${op.origin}:${op.seq} ${KIND_NAMES[op.kind]} ${op.path}${op.to ? ` -> ${op.to}` : ''} clock=${JSON.stringify(op.clock)}`,
      );
    }
    for await (const [p, h] of n.store.heads()) {
      console.log(
        `  head ${p}: ${h.versions.map((v) => `${v.dot.origin}:${v.dot.seq}/${KIND_NAMES[v.kind]}`).join(' ')}`,
      );
    }
    for await (const [p, f] of n.store.files())
      console.log(`  file ${p} -> ${f.headPath} @${f.version?.origin}:${f.version?.seq}`);
  }
}

/**
 * fc.assert for schedules, whose failure also names the one-line command that replays the
 * shrunk counterexample verbosely.
 */
export async function assertSchedules<T>(
  nodes: number,
  property: fc.IAsyncProperty<[T]>,
  params: fc.Parameters<[T]>,
): Promise<void> {
  const details = await fc.check(property, params);
  if (!details.failed) return;
  const example = details.counterexample?.[0];
  const replay = `npm run soak -- --nodes ${nodes} --replay '${JSON.stringify(example)}'`;
  throw new Error(`${fc.defaultReportMessage(details)}\nReplay: ${replay}`, { cause: details.errorInstance });
}
