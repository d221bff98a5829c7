// After a change has arrived, the tools still exchange acknowledgements and index updates
// that belong to it: wait until the byte counters stand still before reading them.
import type { Pair } from '../rivals/types.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once no byte crossed the proxies for quietMs (or after maxMs). */
export async function bytesSettled(
  pair: Pair,
  quietMs = 400,
  maxMs = 5000,
): Promise<{ aToB: number; bToA: number }> {
  const start = Date.now();
  let last = pair.bytes();
  let stillSince = Date.now();
  while (Date.now() - start < maxMs) {
    await sleep(50);
    const now = pair.bytes();
    if (now.aToB !== last.aToB || now.bToA !== last.bToA) {
      last = now;
      stillSince = Date.now();
    } else if (Date.now() - stillSince >= quietMs) break;
  }
  return pair.bytes();
}

export { sleep };
