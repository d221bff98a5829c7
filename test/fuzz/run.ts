// `npm run fuzz -- --inputs 200000 --seed S`: a fuzz campaign against a live daemon, with a
// report at the end; exit 1 if the daemon crashed, wrote outside its folder, stopped
// syncing or anything else was found. Without --seed a random seed is chosen and printed.
// Debugging aids: FUZZ_TRACE=1 prints every input as it is sent; FUZZ_LINGER=<ms> keeps the
// daemons up after the checks and prints what they are transferring every 5 s.
import { parseArgs } from 'node:util';
import { cleanupHarness } from '../harness/cleanup.ts';
import { formatReport, runFuzz } from './runner.ts';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    lanes: { type: 'string' },
    skip: { type: 'string' },
    partner: { type: 'string' },
    entry: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const inputs = Number(values.inputs);
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(inputs) || inputs < 1) {
  process.stderr.write(
    'usage: npm run fuzz -- [--inputs N] [--seed S] [--lanes K] [--skip post/x,pre/y] [--partner end] [--entry bin.js] [--keep]\n',
  );
  process.exit(2);
}
if (values.keep) process.env.RESONATE_KEEP_TMP = '1';
process.stderr.write(`fuzz: seed ${seed} (repeat with --seed ${seed} --inputs ${inputs})\n`);
let code = 1;
try {
  const report = await runFuzz({
    seed,
    inputs,
    ...(values.lanes ? { lanes: Number(values.lanes) } : {}),
    ...(values.skip ? { skip: values.skip.split(',') } : {}),
    ...(values.partner === 'end' ? { partner: 'end' as const } : {}),
    ...(values.entry ? { entry: values.entry } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  code = report.findings.length === 0 ? 0 : 1;
} finally {
  await cleanupHarness();
}
process.exit(code);
