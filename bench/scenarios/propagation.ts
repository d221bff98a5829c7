// 1 KiB files written one at a time, a -> b then b -> a: time from writeFile returning to
// the file being complete on the other side, per sample; bytes for all samples together.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileIs } from '../lib/checks.ts';
import { randomBuffer, sha256 } from '../lib/content.ts';
import { bytes, type Figures, ms } from '../lib/figures.ts';
import { bytesSettled, sleep } from '../lib/settle.ts';
import { KiB } from '../lib/sizes.ts';
import { summarize } from '../lib/stats.ts';
import { step } from '../lib/step.ts';
import type { Pair } from '../rivals/types.ts';
import type { Ctx, PairScenario } from './types.ts';

async function direction(pair: Pair, ctx: Ctx, from: 'a' | 'b'): Promise<number[]> {
  const src = from === 'a' ? pair.a : pair.b;
  const to = from === 'a' ? 'b' : 'a';
  const dst = from === 'a' ? pair.b : pair.a;
  const out: number[] = [];
  const start = performance.now();
  for (let i = 0; i < ctx.sizes.samples; i++) {
    if (i >= 5 && performance.now() - start > ctx.sizes.sampleBudgetMs) break;
    const rel = `${from}2${to}-${String(i).padStart(3, '0')}.txt`;
    const data = randomBuffer(KiB);
    const r = await step(pair, {
      to,
      check: fileIs(dst, rel, { size: KiB, sha256: sha256(data) }),
      act: () => writeFile(join(src, rel), data),
      what: `${rel} on ${to}`,
      timeoutMs: ctx.sizes.stepTimeoutMs,
      settle: false,
    });
    out.push(r.ms);
    await sleep(20); // let trailing acknowledgements pass before the next sample
  }
  return out;
}

export const propagation: PairScenario = {
  kind: 'pair',
  id: 'propagation',
  title: '1 KiB file propagation',
  async run(pair, ctx) {
    pair.resetBytes();
    const a2b = await direction(pair, ctx, 'a');
    const b2a = pair.twoWay ? await direction(pair, ctx, 'b') : [];
    const wire = await bytesSettled(pair);
    const s1 = summarize(a2b);
    const s2 = summarize(b2a);
    const n = a2b.length + b2a.length;
    const note = (s: { n: number }) => `${s.n} samples`;
    const figures: Figures = {
      'prop.a2b.p50': ms(s1.p50, note(s1)),
      'prop.a2b.p95': ms(s1.p95, note(s1)),
      'prop.a2b.max': ms(s1.max, note(s1)),
      'prop.bytes': bytes(n ? Math.round((wire.aToB + wire.bToA) / n) : null),
      'prop.rss.a': bytes(pair.memA.peak()),
      'prop.rss.b': bytes(pair.memB.peak()),
    };
    if (pair.twoWay) {
      figures['prop.b2a.p50'] = ms(s2.p50, note(s2));
      figures['prop.b2a.p95'] = ms(s2.p95, note(s2));
      figures['prop.b2a.max'] = ms(s2.max, note(s2));
    }
    return { figures, detail: { a2b, b2a, wire } };
  },
};
