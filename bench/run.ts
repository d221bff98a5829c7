// `npm run bench`: our daemon against the targets of issue 7 and, side by side in the same
// run, the rival tools that are installed. See bench/README.md for the method.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupEverything, installSignalHandlers } from './lib/cleanup.ts';
import type { SystemResult } from './lib/figures.ts';
import { fmtFigure } from './lib/format.ts';
import { load, machine } from './lib/machine.ts';
import { type Options, parseOptions, USAGE } from './lib/options.ts';
import { renderProfile, summarizeDir } from './lib/profile.ts';
import { type Results, type SystemInfo, writeResults } from './lib/results.ts';
import { runOnPair, runSolo } from './lib/runner.ts';
import { sizesFor } from './lib/sizes.ts';
import { type Column, type ResultGrid, renderProblems, renderTable } from './lib/table.ts';
import { missedScenarios, renderTargets, targetRows } from './lib/verdicts.ts';
import { inotifyRsync } from './rivals/inotify-rsync.ts';
import { lsyncd } from './rivals/lsyncd.ts';
import { resonate } from './rivals/resonate.ts';
import { syncthing } from './rivals/syncthing.ts';
import type { System } from './rivals/types.ts';
import { useProxy, type WireMethod, wireMethod } from './rivals/wire-count.ts';
import { bigfile } from './scenarios/bigfile.ts';
import { deleteFile } from './scenarios/delete.ts';
import { files } from './scenarios/files.ts';
import { hashbench } from './scenarios/hashbench.ts';
import { physical } from './scenarios/physical.ts';
import { propagation } from './scenarios/propagation.ts';
import { renameFolder } from './scenarios/rename.ts';
import { scan } from './scenarios/scan.ts';
import type { Ctx, Scenario } from './scenarios/types.ts';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const SCENARIOS: Scenario[] = [
  propagation,
  files,
  bigfile,
  renameFolder,
  deleteFile,
  scan,
  physical,
  hashbench,
];
const RIVALS: System[] = [syncthing(1), syncthing(10), inotifyRsync, lsyncd];
const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** Rivals to run: asked for by name, or those meant for this mode; each probed once. */
async function pickRivals(o: Options, infos: SystemInfo[]): Promise<System[]> {
  const out: System[] = [];
  for (const r of RIVALS) {
    const wanted =
      o.rivals !== null && (o.rivals.length ? o.rivals.includes(r.id) : r.modes.includes(o.mode));
    if (!wanted) {
      infos.push({
        id: r.id,
        label: r.label,
        version: null,
        skipped:
          o.rivals === null ? '--no-rivals' : o.rivals.length ? 'not selected' : `not in ${o.mode} mode`,
      });
      continue;
    }
    try {
      infos.push({ id: r.id, label: r.label, version: await r.probe() });
      out.push(r);
    } catch (err) {
      infos.push({ id: r.id, label: r.label, version: null, skipped: (err as Error).message, missing: true });
    }
  }
  return out;
}

function chooseScenarios(o: Options): Scenario[] {
  for (const id of o.only) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id}`);
  // The microbenchmark is another tool's; quick runs leave it out unless asked for.
  return SCENARIOS.filter((s) =>
    o.only.length ? o.only.includes(s.id) : o.mode !== 'quick' || s.id !== 'hashbench',
  );
}

async function runAll(
  scenarios: Scenario[],
  rivals: System[],
  ctx: Ctx,
  infos: SystemInfo[],
  saved: (grid: ResultGrid) => void,
): Promise<ResultGrid> {
  const grid: ResultGrid = {};
  for (const s of scenarios) {
    saved(grid);
    const row: Record<string, SystemResult> = {};
    grid[s.id] = row;
    if (s.kind === 'solo') {
      row.resonate = await runSolo(s, ctx);
      continue;
    }
    for (const sys of [resonate, ...rivals]) row[sys.id] = await runOnPair(s, sys, ctx);
    for (const i of infos)
      if (i.version === null)
        row[i.id] = { status: i.missing ? 'missing' : 'n/a', reason: i.skipped ?? '', figures: {} };
  }
  return grid;
}

/** Re-run the scenarios where we missed a target with our daemons under the profiler. */
async function profilePass(missed: string[], scenarios: Scenario[], ctx: Ctx, date: string) {
  const profiles: Results['profiles'] = {};
  for (const id of missed) {
    const s = scenarios.find((x) => x.id === id);
    if (!s) continue;
    const dir = join(BENCH, 'results', 'profiles', date.replace(/[:.]/g, '-'), id);
    mkdirSync(dir, { recursive: true });
    log(`[profile] ${id}`);
    if (s.kind === 'solo') await runSolo(s, ctx, dir);
    else await runOnPair(s, resonate, ctx, dir);
    profiles[id] = summarizeDir(dir);
  }
  return profiles;
}

const WIRE_TEXT: Record<WireMethod, string> = {
  nft: 'nftables counters on the ports (payload: IP bytes less 52 B of headers per packet)',
  proxy: 'counting proxies relaying each link (payload bytes)',
};

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  installSignalHandlers();
  useProxy(o.proxy);
  const started = Date.now();
  const date = new Date().toISOString();
  const sizes = sizesFor(o.mode);
  const ctx: Ctx = { sizes, log };
  const loadBefore = load();
  const infos: SystemInfo[] = [{ id: 'resonate', label: 'resonate', version: await resonate.probe() }];
  const rivals = await pickRivals(o, infos);
  const scenarios = chooseScenarios(o);
  log(`bench: ${o.mode} mode; scenarios ${scenarios.map((s) => s.id).join(', ')}`);
  log(`rivals: ${rivals.map((r) => r.label).join(', ') || 'none'}; load average ${loadBefore.join(' ')}`);
  for (const i of infos) if (i.skipped && o.rivals !== null) log(`  ${i.label}: not run (${i.skipped})`);

  // A long run that dies half-way still leaves what it measured.
  const partial = join(o.outDir ?? join(BENCH, 'results'), 'partial.json');
  const grid = await runAll(scenarios, rivals, ctx, infos, (g) => {
    mkdirSync(dirname(partial), { recursive: true });
    writeFileSync(partial, `${JSON.stringify({ date, mode: o.mode, scenarios: g }, null, 2)}\n`);
  });
  rmSync(partial, { force: true });
  const rows = targetRows(grid, 'resonate', sizes);
  // Profiled: the scenarios that missed a target, or those named with --only.
  const toProfile = [...new Set([...missedScenarios(rows), ...o.only])];
  const profiles = o.profile ? await profilePass(toProfile, scenarios, ctx, date) : {};

  // Only rivals that ran in at least one scenario get a column.
  const columns: Column[] = rivals
    .filter((r) => Object.values(grid).some((row) => row[r.id] !== undefined))
    .map((r) => ({ id: r.id, label: r.label }));
  const m = machine();
  console.log(`\nresonate bench, ${o.mode} mode, ${date}`);
  console.log(`${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB, Linux ${m.kernel}, ${m.disk}, node ${m.node}`);
  console.log(`load average before ${loadBefore.join(' ')}, after ${load().join(' ')}`);
  console.log(`wire bytes: ${WIRE_TEXT[wireMethod()]}`);
  console.log(`versions: ${infos.map((i) => `${i.label} ${i.version ?? `(${i.skipped})`}`).join('; ')}\n`);
  console.log(renderTable(grid, 'resonate', columns, sizes));
  console.log('\nratio = rival / resonate (×3 = the rival needs three times as much)');
  const quoted = grid.hashbench?.resonate;
  if (quoted?.status === 'ok') {
    console.log('\nquoted from bench/hash.ts (same run):');
    for (const [k, f] of Object.entries(quoted.figures)) console.log(`  ${k}: ${fmtFigure(f)}`);
  }
  console.log(`\ntargets:\n${renderTargets(rows)}`);
  const problems = renderProblems(grid);
  if (problems.length) console.log(`\nproblems:\n  ${problems.join('\n  ')}`);
  for (const [id, list] of Object.entries(profiles)) {
    console.log(`\nprofile of our daemons in ${id} (top self time):`);
    for (const p of list) console.log(renderProfile(p));
  }

  const results: Results = {
    date,
    mode: o.mode,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    durationS: Math.round((Date.now() - started) / 1000),
    machine: m,
    load: { before: loadBefore, after: load() },
    wire: wireMethod(),
    sizes,
    systems: infos,
    scenarios: grid,
    targets: rows.map(({ section: _, ...r }) => r),
    profiles,
  };
  const file = writeResults(o.outDir ?? join(BENCH, 'results'), results);
  console.log(`\nresults: ${file} (and latest.json), ${results.durationS} s`);
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  log(`bench: ${err instanceof Error ? err.message : String(err)}`);
  log(USAGE);
} finally {
  await cleanupEverything();
}
process.exit(code);
