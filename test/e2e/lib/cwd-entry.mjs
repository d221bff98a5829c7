// Runs bin/resonate.js exactly as a user would type it in a shell: with the working
// directory and the argument list taken from the environment (E2E_CWD, E2E_ARGV as a JSON
// array), so the harness's Daemon (which always passes --dir/--port and runs in the repo)
// can drive the original single-dash form with relative folders. The arguments the
// harness passes are dropped.
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/resonate.js', import.meta.url));
const cwd = process.env.E2E_CWD;
const argv = JSON.parse(process.env.E2E_ARGV ?? '[]');
if (cwd) process.chdir(cwd);
delete process.env.E2E_CWD;
delete process.env.E2E_ARGV;
process.argv = [process.argv[0], bin, ...argv];
await import(bin);
