#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --v8-pool-size=1 --max-semi-space-size=2 --heap-growing-percent=20 --expose-gc
// Entry point. One V8 helper thread, not Node's four: on two cores, four helpers compiling
// and collecting beside the main thread slowed it (a 1,000-file folder rename: 474-526 ms
// against 296-386 ms). A young generation of at most 2 MiB semi-spaces, not 16, and an old
// generation allowed to grow 20% between full collections, not V8's ~2x: V8 grew both in
// any burst and kept the pages. Peak RSS 10-110 MiB lower in the bench's memory figures
// (the 100,000-file scan 203 MiB against 306-316), the scan ~12% slower, the rest within
// noise (bench/notes/machine.md). And glibc's malloc with a fixed mmap threshold of 128 KiB:
// by default it raises the threshold to the size of each large block freed, so the 1 MiB
// buffers of a transfer then came from the heap and stayed there (a 512 MiB file's edits:
// RSS rise 47-49 / 55-59 MiB against 57-58 / 56-75, a / b; the 100,000-file scan's peak
// 188 against 206 MiB). Run it as `resonate` (or this file as a program) for these;
// `node bin/resonate.js` works too, with Node's and glibc's defaults.
// Runs the compiled dist/ when it is at least as new as every source file
// (scripts/build.js, run by `npm ci`); otherwise the TypeScript sources through tsx, so an
// edited checkout or an install without TypeScript still runs the code it has (Node >= 20.6
// for module.register). RESONATE_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// File transfers fsync in parallel on libuv's thread pool; give it room before anything
// starts using it.
process.env.UV_THREADPOOL_SIZE ??= '16';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest mtime (ms) of the files under dir; ~1 ms for src/. */
function newest(dir) {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) max = Math.max(max, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return max;
}

function distIsFresh() {
  if (process.env.RESONATE_FROM_SOURCE === '1') return false;
  try {
    return statSync(join(root, 'dist/.built')).mtimeMs >= newest(join(root, 'src'));
  } catch {
    return false; // never built
  }
}

let main;
if (distIsFresh()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
const code = await main(process.argv.slice(2));
// A finished command (the daemon returns only once it has shut down) leaves nothing running;
// but piped output must be written out first.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
process.exit(code);
