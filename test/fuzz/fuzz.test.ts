// The bounded fuzz run for CI: 10,000 hostile inputs against a live daemon (FUZZ_INPUTS
// and FUZZ_SEED override), then the checks, one test each. The full report is printed; a
// failure is reproduced with `npm run fuzz -- --seed <seed> --inputs <n>` (see SECURITY.md).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { type FuzzReport, formatReport, runFuzz } from './runner.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const INPUTS = Number(process.env.FUZZ_INPUTS ?? 10_000);

/**
 * Input categories with an open finding, left out of the CI run (each would cost it tens
 * of seconds or stop the daemon writing) while a focused test in
 * test/e2e/security.test.ts reproduces it. `npm run fuzz` always generates every category.
 * Empty now: the clock-exception, oversized-block, invented-member and log-flood findings
 * were fixed in e06439d, and their categories run here as regression checks.
 */
const KNOWN_FINDINGS: Record<string, string> = {};

let report: FuzzReport;

before(
  async () => {
    report = await runFuzz({
      seed: SEED,
      inputs: INPUTS,
      partner: 'end',
      skip: Object.keys(KNOWN_FINDINGS),
      log: (line) => process.stderr.write(`# ${line}\n`),
    });
    process.stderr.write(`${formatReport(report).replace(/^/gm, '# ')}\n`);
  },
  { timeout: 600_000 },
);
after(cleanupHarness);

const findings = (kind: string) => report.findings.filter((f) => f.kind === kind);
const show = (kind: string) =>
  findings(kind)
    .map((f) => `${f.detail}${f.input ? ` <- ${f.input}` : ''}`)
    .join('\n');

test(`seed ${SEED}: at least ${INPUTS} hostile inputs, before, within and after the handshake`, () => {
  assert.ok(report.inputs >= INPUTS, `only ${report.inputs} inputs were sent`);
  const cats = Object.keys(report.categories);
  assert.ok(cats.some((c) => c.startsWith('pre/')) && cats.some((c) => c.startsWith('post/')));
});

test('the daemon is still alive (no crash) and never hung', () => {
  assert.equal(report.targetAlive, true, show('crash'));
  assert.deepEqual(findings('hang'), []);
});

test('nothing was written outside the folder', () => {
  assert.deepEqual(report.canary, [], 'the canary folder beside the synced one changed');
  assert.deepEqual(report.escaped, [], 'entries named like an escape attempt exist outside the folders');
});

test('no entry in the synced folders has a name checkPath refuses', () => {
  assert.deepEqual(report.refusedNames, []);
});

test('a well-behaved daemon linked to it still syncs a fresh file both ways', () => {
  assert.equal(report.partnerAlive, true, show('crash'));
  assert.deepEqual(report.sync, { partnerToTarget: true, targetToPartner: true }, show('sync broken'));
});

test('nothing from before the handshake got through; wrong secrets were refused (4003)', () => {
  assert.deepEqual(findings('auth bypass'), []);
  assert.deepEqual(findings('auth'), []);
  assert.deepEqual(findings('unauthenticated connection kept'), []);
});

test('every input the daemon must refuse cost the link; harmless ones did not', () => {
  assert.deepEqual(report.notClosed, [], show('missing check'));
  assert.deepEqual(findings('unexpected close'), []);
});

test('the fuzzer itself worked (every input was generated and delivered)', () => {
  for (const k of [
    'generator error',
    'lane error',
    'pre lane error',
    'connect failed',
    'refused',
    'pending limit',
  ]) {
    assert.deepEqual(findings(k), [], k);
  }
});

test('no transfer was left open (no temp file outlived the checks)', () => {
  assert.deepEqual(report.tempsLeft, [], show('temp files left'));
});

test('no handler threw and nothing was logged at error level', () => {
  assert.deepEqual(findings('handler error in log'), []);
});

test('no file handle was left for the garbage collector to close', () => {
  assert.deepEqual(findings('process warning'), []);
});

test('the log has rejection lines', () => {
  const refusals = report.log.byMessage.filter(([m]) =>
    /refused peer|broke the protocol|closing link/.test(m),
  );
  assert.ok(refusals.length > 0, 'no rejection line in the log');
});

// Before e06439d every dropped authenticated link logged about four lines (1.4 per input).
test('the log is not flooded: fewer lines than inputs / 10', () => {
  assert.ok(
    report.log.lines < report.inputs / 10,
    `${report.log.lines} lines for ${report.inputs} inputs; top: ${JSON.stringify(report.log.byMessage.slice(0, 5))}`,
  );
});
