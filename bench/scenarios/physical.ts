// What the machine itself can do, for scale: cp and cp + sync of the large file (page
// cache warm, as after the scenarios write it), and node:crypto SHA-256 in this process.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeTempDir, removeTree } from '../../test/harness/tmp.ts';
import { randomBuffer } from '../lib/content.ts';
import { ms } from '../lib/figures.ts';
import { sha256Speed } from '../lib/sha-speed.ts';
import type { SoloScenario } from './types.ts';

function timed(cmd: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return performance.now() - t;
}

export const physical: SoloScenario = {
  kind: 'solo',
  id: 'physical',
  title: 'physical reference',
  async run(ctx) {
    const dir = await makeTempDir('bench-phys');
    try {
      const src = join(dir, 'src.bin');
      await writeFile(src, randomBuffer(ctx.sizes.big));
      timed('sync', []);
      const cp = timed('cp', [src, join(dir, 'copy1.bin')]);
      timed('sync', []);
      const t = performance.now();
      timed('cp', [src, join(dir, 'copy2.bin')]);
      timed('sync', []);
      const cpSync = performance.now() - t;
      return {
        status: 'ok',
        figures: {
          'phys.cp': ms(cp),
          'phys.cpSync': ms(cpSync),
          'phys.sha256': {
            value: sha256Speed() / 1e9,
            unit: 'GB/s',
            note: 'node:crypto, in memory, best of 3',
          },
        },
      };
    } finally {
      await removeTree(dir);
    }
  },
};
