// Command-line options of `npm run bench`: the mode (quick / default / full), which
// scenarios and which rivals to run, and whether to profile our daemon afterwards.
import { parseArgs } from 'node:util';

export type Mode = 'quick' | 'default' | 'full';

export interface Options {
  mode: Mode;
  /** Scenario ids to run (empty: all). */
  only: string[];
  /** Rival ids to run (empty: every available one that fits the mode); null: none. */
  rivals: string[] | null;
  /** Re-run the scenarios whose targets we miss with the daemons under the CPU profiler. */
  profile: boolean;
  /** Where results go (default bench/results). */
  outDir: string | null;
  /** Count bytes with relaying proxies even where nftables counters are usable. */
  proxy: boolean;
  help: boolean;
}

export const USAGE = `npm run bench -- [--quick | --full] [--only ID[,ID]] [--no-rivals | --rivals ID[,ID]] [--profile]
  --quick       small sizes and few samples, under 2 minutes; rivals only the quick ones
  --full        the default set plus Syncthing with its default 10 s watcher delay
  --only        scenarios: propagation, files, bigfile, rename, delete, scan, physical, hashbench
  --no-rivals   our daemon only
  --rivals      pick rivals: syncthing, syncthing10, rsync, lsyncd, unison
  --profile     re-run the scenarios that miss a target (or those given with --only) with our
                daemons under the CPU profiler; summary printed, .cpuprofile files kept
  --out DIR     write results there instead of bench/results
  --proxy       count bytes on the wire with relaying proxies even as root with nft installed`;

const list = (v: string[] | undefined) =>
  (v ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

export function parseOptions(argv: string[]): Options {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      'no-rivals': { type: 'boolean' },
      rivals: { type: 'string', multiple: true },
      profile: { type: 'boolean' },
      out: { type: 'string' },
      proxy: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (v.quick && v.full) throw new Error('--quick and --full exclude each other');
  return {
    mode: v.quick ? 'quick' : v.full ? 'full' : 'default',
    only: list(v.only),
    rivals: v['no-rivals'] ? null : list(v.rivals),
    profile: v.profile === true,
    outDir: v.out ?? null,
    proxy: v.proxy === true,
    help: v.help === true,
  };
}
