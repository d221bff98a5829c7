// Our daemon alone, fresh state, started on a folder that is already full: time from spawn
// to its "ready" log line and its peak RSS, for an empty folder (the baseline), many small
// files, and one huge file. The huge file's ready time minus the empty folder's gives the
// daemon's hashing speed, compared with node:crypto SHA-256 measured right here.
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../test/harness/ports.ts';
import { makeTempDir, removeTree } from '../../test/harness/tmp.ts';
import { makeFileSet, randomBuffer, writeFileSet } from '../lib/content.ts';
import { bytes, type Figure, type Figures, ms } from '../lib/figures.ts';
import { readMem } from '../lib/rss.ts';
import { sleep } from '../lib/settle.ts';
import { sha256Speed } from '../lib/sha-speed.ts';
import { MiB } from '../lib/sizes.ts';
import { READY, startResonate } from '../rivals/resonate.ts';
import type { SoloScenario } from './types.ts';

interface Started {
  readyMs: number;
  peak: number;
  rss: number;
}

async function timeToReady(dir: string, name: string, profileDir?: string): Promise<Started> {
  const port = await freePort();
  const t = performance.now();
  const d = await startResonate({ dir, port, name, ...(profileDir ? { profileDir } : {}) });
  try {
    await d.waitForLine(READY, 600_000);
    const readyMs = performance.now() - t;
    await sleep(1000); // "while tracking": the watcher and index settled, nothing to do
    const m = readMem(d.pid);
    return { readyMs, peak: m?.hwm ?? 0, rss: m?.rss ?? 0 };
  } finally {
    await d.stop('SIGTERM', 30_000);
    d.unregister();
  }
}

async function writeHuge(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let done = 0; done < size; done += 64 * MiB)
      await fh.write(randomBuffer(Math.min(64 * MiB, size - done)));
  } finally {
    await fh.close();
  }
}

export const scan: SoloScenario = {
  kind: 'solo',
  id: 'scan',
  title: 'initial scan (our daemon alone, fresh state)',
  async run(ctx) {
    const { scanFiles, scanFilesPerDir, scanFileSize, scanBig } = ctx.sizes;
    const figures: Figures = {};
    const pd = ctx.profileDir;
    const empty = await makeTempDir('bench-scan-empty');
    const base = await timeToReady(empty, 'scan-empty', pd);
    figures['scan.empty.time'] = ms(base.readyMs);
    figures['scan.empty.rss'] = bytes(base.peak);

    const small = await makeTempDir('bench-scan-small');
    ctx.log(`  writing ${scanFiles} files...`);
    await writeFileSet(
      small,
      makeFileSet('', scanFiles, Math.ceil(scanFiles / scanFilesPerDir), scanFileSize),
    );
    const s = await timeToReady(small, 'scan-small', pd);
    await removeTree(small);
    figures['scan.small.time'] = ms(s.readyMs);
    figures['scan.small.rss'] = bytes(s.peak);
    figures['scan.small.rssAfter'] = bytes(s.rss);

    const huge = await makeTempDir('bench-scan-huge');
    await mkdir(huge, { recursive: true });
    ctx.log(`  writing a ${scanBig / MiB} MiB file...`);
    await writeHuge(join(huge, 'huge.bin'), scanBig);
    const h = await timeToReady(huge, 'scan-huge', pd);
    await removeTree(huge);
    const rate = scanBig / (Math.max(1, h.readyMs - base.readyMs) / 1000);
    const ref = sha256Speed();
    figures['scan.big.time'] = ms(h.readyMs);
    figures['scan.big.raise'] = bytes(Math.max(0, h.peak - base.peak));
    const gbps = (v: number, note?: string): Figure => ({
      value: v / 1e9,
      unit: 'GB/s',
      ...(note ? { note } : {}),
    });
    figures['scan.hash.rate'] = gbps(rate, 'file size / (ready time - empty folder ready time)');
    figures['scan.hash.ref'] = gbps(ref, 'node:crypto SHA-256, in memory, best of 3');
    figures['scan.hash.ratio'] = { value: (100 * rate) / ref, unit: '%' };
    return { status: 'ok', figures };
  },
};
