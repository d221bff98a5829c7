// Quotes the chunking/hashing microbenchmark (bench/hash.ts, maintained separately) in the
// same run: its throughput lines (GB/s) and delta lines (KiB to fetch) become figures.
import { fileURLToPath } from 'node:url';
import type { Figures } from '../lib/figures.ts';
import { run } from '../lib/procs.ts';
import { MiB } from '../lib/sizes.ts';
import type { SoloScenario } from './types.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Throughput lines ("  name   1.23 GB/s ..." or, in its newer table form, "  name   1.23
 * 0.55x ...": the first number is wall GB/s) and delta lines ("  name   123 KiB in 4 new
 * blocks"), under section titles (lines that start in column 0).
 */
export function parseHashOutput(out: string): Figures {
  const figures: Figures = {};
  let section = '';
  for (const line of out.split('\n')) {
    if (/^\S/.test(line)) section = line.split(',')[0]!.trim();
    const g = /^\s+(\S.*?)\s{2,}([\d.]+)(?: GB\/s|\s+[\d.]+x)/.exec(line);
    if (g) figures[`hash: ${section}: ${g[1]}`] = { value: Number(g[2]), unit: 'GB/s' };
    const d = /^\s+(.+?)\s+(\d+) KiB in (\d+) new blocks/.exec(line);
    if (d)
      figures[`hash: delta: ${d[1]}`] = { value: Number(d[2]) * 1024, unit: 'B', note: `${d[3]} blocks` };
  }
  return figures;
}

export const hashbench: SoloScenario = {
  kind: 'solo',
  id: 'hashbench',
  title: 'chunking + hashing microbenchmark (bench/hash.ts)',
  async run(ctx) {
    const mib = String(Math.min(ctx.sizes.scanBig, 1024 * MiB) / MiB);
    const args = [
      '--import',
      'tsx',
      'bench/hash.ts',
      '--size-mib',
      mib,
      '--delta-mib',
      String(ctx.sizes.big / MiB),
    ];
    const r = await run(process.execPath, [...args, '--reps', '2'], { cwd: REPO, timeoutMs: 300_000 });
    if (r.code !== 0)
      return { status: 'failed', reason: r.out.split('\n').slice(-5).join('\n'), figures: {} };
    return { status: 'ok', figures: parseHashOutput(r.out), detail: { output: r.out } };
  },
};
