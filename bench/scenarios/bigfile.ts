// One large random file (512 MiB by default) on one pair, four kinds of change in a row:
// created; 1 MiB overwritten in the middle in place; 1 byte inserted at the front,
// rewritten in place; another byte inserted and saved the way editors save (temp file
// beside it, then rename over it) - where the temp file must never show up on b. Each
// edit is repeated as often as the mode says, and its median is the figure. Memory: how far each
// side's peak RSS rose above its idle RSS, per change (in the JSON) and at worst.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAt } from '../../test/harness/files.ts';
import { fileIs } from '../lib/checks.ts';
import { randomBuffer, sha256 } from '../lib/content.ts';
import { bytes, type Figures, flag } from '../lib/figures.ts';
import { medianFigures, type Sample, sampleOf } from '../lib/repeats.ts';
import { step } from '../lib/step.ts';
import { assertSame } from '../lib/verify.ts';
import type { Pair } from '../rivals/types.ts';
import type { PairScenario } from './types.ts';

const NAME = 'big.bin';
/** GIO's (gedit, GNOME apps) atomic-save temp name; nothing ignores it by default. */
const TEMP = '.goutputstream-BENCH01';

function change(pair: Pair, what: string, content: Buffer, act: () => Promise<void>, timeoutMs: number) {
  return step(pair, {
    to: 'b',
    check: fileIs(pair.b, NAME, { size: content.length, sha256: sha256(content) }),
    act,
    what,
    timeoutMs,
  });
}

export const bigfile: PairScenario = {
  kind: 'pair',
  id: 'bigfile',
  title: 'large file: new, overwrite, insertions',
  async run(pair, ctx) {
    const size = ctx.sizes.big;
    const limit = ctx.sizes.stepTimeoutMs;
    const path = join(pair.a, NAME);
    const idleA = pair.memA.current();
    const idleB = pair.memB.current();
    pair.memA.reset();
    pair.memB.reset();
    const figures: Figures = {};
    const detail: Record<string, unknown> = {};
    const samples = new Map<string, (Sample & { raiseA: number; raiseB: number })[]>();
    // Each change's own peak: reset the kernel's high-water mark after reading it.
    const raise = { a: 0, b: 0 };
    const record = (key: string, r: Awaited<ReturnType<typeof change>>) => {
      const ra = Math.max(0, pair.memA.peak() - idleA);
      const rb = Math.max(0, pair.memB.peak() - idleB);
      raise.a = Math.max(raise.a, ra);
      raise.b = Math.max(raise.b, rb);
      pair.memA.reset();
      pair.memB.reset();
      const list = samples.get(key) ?? [];
      list.push({ ...sampleOf(r), raiseA: ra, raiseB: rb });
      samples.set(key, list);
    };

    let content = randomBuffer(size);
    const v1 = content;
    record('big.new', await change(pair, 'new file', content, () => writeFile(path, v1), limit));

    // The edits, each repeated (the targets are medians): every overwrite lands 3 MiB past
    // the one before, every insertion adds one more byte at the front.
    for (let i = 0; i < ctx.sizes.repeats; i++) {
      const patch = randomBuffer(ctx.sizes.overwrite);
      // Not aligned to anything a tool might favour.
      const at = Math.floor(size / 2) + 12_345 + i * 3 * ctx.sizes.overwrite;
      content.set(patch, at);
      record(
        'big.overwrite',
        await change(pair, '1 MiB overwrite', content, () => writeAt(path, patch, at), limit),
      );
    }
    for (let i = 0; i < ctx.sizes.repeats; i++) {
      content = Buffer.concat([Buffer.from([0x5a + i]), content]);
      const v = content;
      record(
        'big.insert',
        await change(pair, '1-byte insert in place', content, () => writeAt(path, v, 0), limit),
      );
    }
    const temp = join(pair.a, TEMP);
    const leaked = new Set<string>();
    for (let i = 0; i < ctx.sizes.repeats; i++) {
      content = Buffer.concat([Buffer.from([0xa5 + i]), content]);
      const v = content;
      const r = await change(
        pair,
        '1-byte insert, temp + rename',
        content,
        async () => {
          await writeFile(temp, v);
          await rename(temp, path);
        },
        limit,
      );
      record('big.editor', r);
      for (const n of r.seen) if (n.includes(TEMP)) leaked.add(n);
    }
    for (const [key, list] of samples) {
      const m = medianFigures(list);
      figures[`${key}.time`] = m.time;
      figures[`${key}.bytes`] = m.bytes;
      detail[key] = list;
    }
    figures['big.editor.tempOnB'] = flag(leaked.size > 0);
    detail.tempNamesOnB = [...leaked];

    await assertSame(pair, 'bigfile');
    figures['big.rss.a'] = bytes(idleA + raise.a);
    figures['big.rss.b'] = bytes(idleB + raise.b);
    figures['big.raise.a'] = bytes(raise.a);
    figures['big.raise.b'] = bytes(raise.b);
    detail.idle = { a: idleA, b: idleB };
    return { figures, detail };
  },
};
