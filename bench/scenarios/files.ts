// Many small files created on a (5,000 x 4 KiB in 50 folders by default), converged on b
// with every content checked; time from the last write returning.
import { filesAre } from '../lib/checks.ts';
import { expectations, makeFileSet, writeFileSet } from '../lib/content.ts';
import { bytes, flag, ms } from '../lib/figures.ts';
import { sampleOf } from '../lib/repeats.ts';
import { step } from '../lib/step.ts';
import { assertSame } from '../lib/verify.ts';
import type { PairScenario } from './types.ts';

export const files: PairScenario = {
  kind: 'pair',
  id: 'files',
  title: 'many small files',
  async run(pair, ctx) {
    const { files: n, fileDirs, fileSize } = ctx.sizes;
    const set = makeFileSet('many/', n, fileDirs, fileSize);
    const r = await step(pair, {
      to: 'b',
      check: filesAre(pair.b, expectations(set)),
      act: () => writeFileSet(pair.a, set),
      what: `${n} files on b`,
      timeoutMs: ctx.sizes.stepTimeoutMs,
    });
    await assertSame(pair, 'files');
    return {
      figures: {
        'files.time': ms(
          r.ms,
          r.by === 'poll' ? 'seen by the fallback poll' : `writing took ${r.actMs.toFixed(0)} ms`,
        ),
        'files.bytes': bytes(r.aToB + r.bToA),
        'files.rss.a': bytes(pair.memA.peak()),
        'files.rss.b': bytes(pair.memB.peak()),
        'files.verified': flag(true),
      },
      detail: { ...sampleOf(r) },
    };
  },
};
