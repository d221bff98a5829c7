// Deleting one file that both sides have: time until it is gone on b (a few samples).
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileIs, gone } from '../lib/checks.ts';
import { randomBuffer, sha256 } from '../lib/content.ts';
import { bytes, ms } from '../lib/figures.ts';
import { KiB } from '../lib/sizes.ts';
import { summarize } from '../lib/stats.ts';
import { step } from '../lib/step.ts';
import type { PairScenario } from './types.ts';

export const deleteFile: PairScenario = {
  kind: 'pair',
  id: 'delete',
  title: 'delete of one file',
  async run(pair, ctx) {
    const times: number[] = [];
    let wire = 0;
    for (let i = 0; i < ctx.sizes.deletes; i++) {
      const rel = `doomed-${i}.bin`;
      const data = randomBuffer(4 * KiB);
      await step(pair, {
        to: 'b',
        check: fileIs(pair.b, rel, { size: data.length, sha256: sha256(data) }),
        act: () => writeFile(join(pair.a, rel), data),
        what: `${rel} on b`,
        timeoutMs: ctx.sizes.stepTimeoutMs,
      });
      const r = await step(pair, {
        to: 'b',
        check: gone(pair.b, rel),
        act: () => unlink(join(pair.a, rel)),
        what: `${rel} gone from b`,
        timeoutMs: ctx.sizes.stepTimeoutMs,
      });
      times.push(r.ms);
      wire += r.aToB + r.bToA;
    }
    const s = summarize(times);
    return {
      figures: {
        'delete.p50': ms(s.p50, `${s.n} samples`),
        'delete.max': ms(s.max, `${s.n} samples`),
        'delete.bytes': bytes(times.length ? Math.round(wire / times.length) : null),
      },
      detail: { times },
    };
  },
};
