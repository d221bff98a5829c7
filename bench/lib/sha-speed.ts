// The machine's own hashing speed, measured in this run: node:crypto SHA-256 over a buffer
// in memory (best of 3), the ceiling any file hasher in Node can reach.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { randomBuffer } from './content.ts';
import { MiB } from './sizes.ts';

/** Bytes per second. */
export function sha256Speed(size = 256 * MiB, reps = 3): number {
  const data = randomBuffer(size);
  let best = 0;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    createHash('sha256').update(data).digest();
    best = Math.max(best, size / ((performance.now() - t) / 1000));
  }
  return best;
}
