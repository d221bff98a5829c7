// Every figure the table shows, in order, with its target where the issue states one. A
// target is judged only at the sizes it is stated for (not in --quick runs, for instance).
import type { Sizes } from './sizes.ts';
import { KiB, MiB, TARGET_SIZES } from './sizes.ts';

export interface Target {
  op: '<=' | '>=' | '==';
  value: number;
  /** The size this target is stated for; quick runs with other sizes are not judged. */
  size?: keyof Sizes;
}

export interface Metric {
  key: string;
  label: string;
  target?: Target;
}

export interface Section {
  id: string;
  title: string;
  metrics: Metric[];
}

const le = (value: number, size?: keyof Sizes): Target => ({ op: '<=', value, ...(size ? { size } : {}) });

export const SECTIONS: Section[] = [
  {
    id: 'propagation',
    title: '1 KiB file propagation',
    metrics: [
      { key: 'prop.a2b.p50', label: 'a→b p50', target: le(10) },
      { key: 'prop.a2b.p95', label: 'a→b p95', target: le(30) },
      { key: 'prop.a2b.max', label: 'a→b max' },
      { key: 'prop.b2a.p50', label: 'b→a p50', target: le(10) },
      { key: 'prop.b2a.p95', label: 'b→a p95', target: le(30) },
      { key: 'prop.b2a.max', label: 'b→a max' },
      { key: 'prop.bytes', label: 'wire per file, both ways' },
      { key: 'prop.rss.a', label: 'peak RSS a' },
      { key: 'prop.rss.b', label: 'peak RSS b' },
    ],
  },
  {
    id: 'files',
    title: 'many 4 KiB files in folders, a→b',
    metrics: [
      { key: 'files.time', label: 'time to converge', target: le(1500, 'files') },
      { key: 'files.bytes', label: 'wire, both ways' },
      { key: 'files.rss.a', label: 'peak RSS a', target: le(100 * MiB, 'files') },
      { key: 'files.rss.b', label: 'peak RSS b', target: le(100 * MiB, 'files') },
    ],
  },
  {
    id: 'bigfile',
    title: 'large random file, a→b',
    metrics: [
      { key: 'big.new.time', label: 'new file: time', target: le(1500, 'big') },
      { key: 'big.new.bytes', label: 'new file: wire' },
      { key: 'big.overwrite.time', label: '1 MiB overwrite: time', target: le(1000, 'big') },
      { key: 'big.overwrite.bytes', label: '1 MiB overwrite: wire', target: le(1.3 * MiB) },
      { key: 'big.insert.time', label: '1-byte insert in place: time', target: le(1000, 'big') },
      { key: 'big.insert.bytes', label: '1-byte insert in place: wire', target: le(MiB) },
      { key: 'big.editor.time', label: '1-byte insert, temp+rename: time', target: le(1000, 'big') },
      { key: 'big.editor.bytes', label: '1-byte insert, temp+rename: wire', target: le(MiB) },
      { key: 'big.editor.tempOnB', label: 'editor temp file appeared on b', target: { op: '==', value: 0 } },
      { key: 'big.rss.a', label: 'peak RSS a' },
      { key: 'big.rss.b', label: 'peak RSS b' },
      { key: 'big.raise.a', label: 'RSS rise a over idle', target: le(64 * MiB) },
      { key: 'big.raise.b', label: 'RSS rise b over idle', target: le(64 * MiB) },
    ],
  },
  {
    id: 'rename',
    title: 'rename a folder of 1,000 x 4 KiB files',
    metrics: [
      { key: 'rename.time', label: 'time to converge', target: le(300, 'renameFiles') },
      { key: 'rename.bytes', label: 'wire, both ways', target: le(200 * KiB, 'renameFiles') },
    ],
  },
  {
    id: 'delete',
    title: 'delete of one file',
    metrics: [
      { key: 'delete.p50', label: 'time p50' },
      { key: 'delete.max', label: 'time max' },
      { key: 'delete.bytes', label: 'wire, both ways' },
    ],
  },
  {
    id: 'scan',
    title: 'initial scan, fresh state (resonate only)',
    metrics: [
      { key: 'scan.empty.time', label: 'empty folder: start to ready' },
      { key: 'scan.empty.rss', label: 'empty folder: peak RSS' },
      { key: 'scan.small.time', label: 'small files: start to ready', target: le(15_000, 'scanFiles') },
      { key: 'scan.small.rss', label: 'small files: peak RSS', target: le(250 * MiB, 'scanFiles') },
      { key: 'scan.small.rssAfter', label: 'small files: RSS once ready' },
      { key: 'scan.big.time', label: 'huge file: start to ready' },
      { key: 'scan.big.raise', label: 'huge file: peak RSS over empty', target: le(64 * MiB) },
      { key: 'scan.hash.rate', label: 'daemon hashing speed' },
      { key: 'scan.hash.ref', label: 'node:crypto SHA-256 speed' },
      {
        key: 'scan.hash.ratio',
        label: 'daemon / node:crypto',
        target: { op: '>=', value: 70, size: 'scanBig' },
      },
    ],
  },
  {
    id: 'physical',
    title: 'physical reference (this machine, this run)',
    metrics: [
      { key: 'phys.cp', label: 'cp of the large file' },
      { key: 'phys.cpSync', label: 'cp + sync of the large file' },
      { key: 'phys.sha256', label: 'SHA-256 in process (node:crypto)' },
    ],
  },
];

export type Verdict = 'met' | 'MISSED' | 'n/a';

/** Whether a value meets its target at the sizes of this run. */
export function judge(t: Target | undefined, value: number | null | undefined, sizes: Sizes): Verdict | null {
  if (!t) return null;
  if (t.size && sizes[t.size] !== TARGET_SIZES[t.size]) return 'n/a';
  if (value === null || value === undefined) return 'n/a';
  const ok = t.op === '<=' ? value <= t.value : t.op === '>=' ? value >= t.value : value === t.value;
  return ok ? 'met' : 'MISSED';
}
