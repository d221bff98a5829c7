// The JSON record of a run: bench/results/<date>.json and bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WireMethod } from '../rivals/wire-count.ts';
import type { SystemResult } from './figures.ts';
import type { Machine } from './machine.ts';
import type { Verdict } from './metrics.ts';
import type { Mode } from './options.ts';
import type { ProfileSummary } from './profile.ts';
import type { Sizes } from './sizes.ts';

export interface SystemInfo {
  id: string;
  label: string;
  version: string | null;
  /** Why it did not run (not installed, not in this mode). */
  skipped?: string;
  /** Not installed or not working here (as opposed to left out by the mode or options). */
  missing?: boolean;
}

export interface TargetRow {
  key: string;
  label: string;
  target: string;
  value: number | null;
  unit: string;
  verdict: Verdict;
}

export interface Results {
  date: string;
  mode: Mode;
  command: string;
  durationS: number;
  machine: Machine;
  /** Load average before and after: other work on the machine makes latencies worse. */
  load: { before: number[]; after: number[] };
  /** How bytes on the wire were counted (bench/rivals/wire-count.ts). */
  wire: WireMethod;
  sizes: Sizes;
  systems: SystemInfo[];
  /** scenario id -> system id -> figures */
  scenarios: Record<string, Record<string, SystemResult>>;
  targets: TargetRow[];
  profiles: Record<string, ProfileSummary[]>;
}

export function writeResults(dir: string, r: Results): string {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(r, null, 2)}\n`;
  const file = join(dir, `${r.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}
