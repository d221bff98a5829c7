// Summarises V8 .cpuprofile files (from lib/profiled-entry.ts): self time per function,
// summed over the nodes of the call tree, idle time left out. The top of that list is
// where a daemon's CPU went during a scenario.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hot {
  fn: string;
  where: string;
  selfMs: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  top: Hot[];
  /** Self time per source file (src/..., a package, node internals), largest first. */
  byFile: { where: string; selfMs: number; pct: number }[];
}

/** "src/node/scanner.ts:12" -> "src/node/scanner.ts"; node internals and packages grouped. */
function fileOf(w: string): string {
  if (!w) return '(native / vm)';
  const path = w.replace(/:\d+$/, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return `package ${pkg[1]}`;
  if (path.startsWith('node:')) return 'node internals';
  return path;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function where(f: CallFrame): string {
  if (!f.url) return '';
  const path = f.url.replace(/^file:\/\//, '').replace(REPO, '');
  return `${path}:${f.lineNumber + 1}`;
}

export function summarizeProfile(path: string, n = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busy += dt;
    const f = node.callFrame;
    const key = `${f.functionName}@${f.url}:${f.lineNumber}`;
    const e = self.get(key) ?? { fn: f.functionName || '(anonymous)', where: where(f), us: 0 };
    e.us += dt;
    self.set(key, e);
  }
  const top = [...self.values()]
    .sort((x, y) => y.us - x.us)
    .slice(0, n)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, pct: busy ? (100 * e.us) / busy : 0 }));
  const files = new Map<string, number>();
  for (const e of self.values()) files.set(fileOf(e.where), (files.get(fileOf(e.where)) ?? 0) + e.us);
  const byFile = [...files]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 8)
    .map(([where, us]) => ({ where, selfMs: us / 1000, pct: busy ? (100 * us) / busy : 0 }));
  return { file: path, busyMs: busy / 1000, top, byFile };
}

export function summarizeDir(dir: string, n = 12): ProfileSummary[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  return names.sort().map((f) => summarizeProfile(join(dir, f), n));
}

export function renderProfile(s: ProfileSummary): string {
  const lines = [`${s.file.replace(REPO, '')}: ${(s.busyMs / 1000).toFixed(2)} s on CPU`];
  for (const h of s.top)
    lines.push(
      `  ${h.pct.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(6)} ms  ${h.fn}  ${h.where}`,
    );
  lines.push('  by file:');
  for (const f of s.byFile)
    lines.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.where}`);
  return lines.join('\n');
}
