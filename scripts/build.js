#!/usr/bin/env node
// Compiles src/ to dist/ (run by `npm ci` / `npm install` through "prepare", and by `npm test`).
// bin/resonate.js runs dist/ when it is at least as new as every source file, and src/
// through tsx otherwise: compiled, a daemon starts faster and idles ~25 MiB smaller, since
// tsx's loader is a second V8 isolate. Without TypeScript installed (a production install)
// this does nothing and the daemon runs through tsx.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const dist = join(root, 'dist');
const stamp = join(dist, '.built');

if (!existsSync(tsc)) {
  console.error('resonate build: TypeScript is not installed; the daemon will run its sources through tsx');
  process.exit(0);
}
rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
// Assets the code loads relative to its own file (proto/ and package.json sit at the same
// depth from dist/ as from src/, so only this one needs copying).
mkdirSync(join(dist, 'fs/wasm'), { recursive: true });
copyFileSync(join(root, 'src/fs/wasm/gear.wasm'), join(dist, 'fs/wasm/gear.wasm'));
// Written last: its mtime says when dist/ was complete.
writeFileSync(stamp, `${new Date().toISOString()}\n`);
