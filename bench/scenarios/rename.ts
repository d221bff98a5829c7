// A folder of 1,000 x 4 KiB files, already in sync, renamed on a: time until b has the new
// folder complete and the old one gone, and the bytes it took (a rename should cost
// metadata, not content).
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { filesAre, folderMoved } from '../lib/checks.ts';
import { expectations, makeFileSet, writeFileSet } from '../lib/content.ts';
import { bytes, ms } from '../lib/figures.ts';
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
    const r = await step(pair, {
      to: 'b',
      check: folderMoved(pair.b, 'd00', 'renamed', inside),
      act: () => rename(join(pair.a, 'd00'), join(pair.a, 'renamed')),
      what: 'the renamed folder on b',
      timeoutMs: ctx.sizes.stepTimeoutMs,
    });
    await assertSame(pair, 'rename');
    return {
      figures: {
        'rename.time': ms(r.ms, r.by === 'poll' ? 'seen by the fallback poll' : undefined),
        'rename.bytes': bytes(r.aToB + r.bToA),
      },
      detail: { aToB: r.aToB, bToA: r.bToA, by: r.by },
    };
  },
};
