#!/usr/bin/env node
// `npm test`: type-check, lint, build dist/ (so end-to-end tests run the daemon as users do),
// then every test file under test/ with node's own runner (TypeScript loaded through tsx).
// Extra arguments select test files by substring, e.g. `npm test -- clock` runs only files
// whose path contains "clock".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const quick = process.argv.includes('--no-checks');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!quick && filters.length === 0) {
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root]);
  run(process.execPath, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'check', root]);
}
run(process.execPath, [join(root, 'scripts/build.js')]);

const files = walk(join(root, 'test')).filter(
  (f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)),
);
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// --test-force-exit: each test file's process exits once its tests (and after hooks) are
// done. Once, after every test of a file had passed, its process spun at 100% CPU in Node's
// exit-time handle cleanup and never ended (nodejs/node#47748); CI would have hung with it.
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', ...files]);
