// A folder of 1,000 x 4 KiB files, already in sync, renamed on a: time until b has the new
// folder complete and the old one gone, and the bytes it took (a rename should cost
// metadata, not content). Renamed again as often as the mode repeats; the median counts.
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { filesAre, folderMoved } from '../lib/checks.ts';
import { expectations, makeFileSet, writeFileSet } from '../lib/content.ts';
import { medianFigures, type Sample, sampleOf } from '../lib/repeats.ts';
import { step } from '../lib/step.ts';
import { assertSame } from '../lib/verify.ts';
import type { PairScenario } from './types.ts';

export const renameFolder: PairScenario = {
  kind: 'pair',
  id: 'rename',
  title: 'folder rename',
  async run(pair, ctx) {
    const set = makeFileSet('', ctx.sizes.renameFiles, 1, ctx.sizes.fileSize);
    // makeFileSet puts everything in "d00/": that is the folder to rename.
    const expected = expectations(set);
    await step(pair, {
      to: 'b',
      check: filesAre(pair.b, expected),
      act: () => writeFileSet(pair.a, set),
      what: 'the folder on b before the rename',
      timeoutMs: ctx.sizes.stepTimeoutMs,
    });
    const inside = new Map([...expected].map(([rel, e]) => [rel.slice('d00/'.length), e]));
    const samples: Sample[] = [];
    for (let i = 0, from = 'd00'; i < ctx.sizes.repeats; i++) {
      const to = `renamed-${i + 1}`;
      const r = await step(pair, {
        to: 'b',
        check: folderMoved(pair.b, from, to, inside),
        act: () => rename(join(pair.a, from), join(pair.a, to)),
        what: `the folder renamed to ${to} on b`,
        timeoutMs: ctx.sizes.stepTimeoutMs,
      });
      samples.push(sampleOf(r));
      from = to;
    }
    await assertSame(pair, 'rename');
    const m = medianFigures(samples);
    return {
      figures: { 'rename.time': m.time, 'rename.bytes': m.bytes },
      detail: { samples },
    };
  },
};
