// One measured change: watch the receiving folder, make the change on the other side, and
// time from the moment the change's last write returned to the moment it was complete on
// the receiving side; then (optionally) let the tool finish talking and read the bytes.
import { performance } from 'node:perf_hooks';
import type { Pair } from '../rivals/types.ts';
import { Arrival, type Check } from './arrival.ts';
import { bytesSettled } from './settle.ts';

export interface StepResult {
  /** Time from the end of the change to its arrival (0 if it arrived while writing). */
  ms: number;
  /** How long making the change took. */
  actMs: number;
  by: 'event' | 'poll' | 'start';
  aToB: number;
  bToA: number;
  /** Every name seen on the receiving side meanwhile. */
  seen: ReadonlySet<string>;
}

export interface StepOptions {
  to: 'a' | 'b';
  check: Check;
  act: () => Promise<void>;
  what: string;
  timeoutMs?: number;
  /** Wait for the byte counters to stand still and report the bytes (default true). */
  settle?: boolean;
}

export async function step(pair: Pair, o: StepOptions): Promise<StepResult> {
  const arrival = await Arrival.start(o.to === 'b' ? pair.b : pair.a, pair.ignored, o.check);
  if (o.settle !== false) pair.resetBytes();
  const t = performance.now();
  try {
    await o.act();
  } catch (err) {
    arrival.close();
    throw err;
  }
  const t0 = performance.now();
  const got = await arrival.wait(o.timeoutMs ?? 120_000, o.what);
  const b = o.settle === false ? { aToB: 0, bToA: 0 } : await bytesSettled(pair);
  return {
    ms: Math.max(0, got.at - t0),
    actMs: t0 - t,
    by: got.by,
    aToB: b.aToB,
    bToA: b.bToA,
    seen: arrival.seen,
  };
}
