#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx, so a clean `npm ci` is enough
// (no build step; Node >= 20.6 for module.register). File transfers fsync in parallel on
// libuv's thread pool; give it room before anything starts using it.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// A finished command (the daemon returns only once it has shut down) leaves nothing running;
// but piped output must be written out first.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
process.exit(code);
