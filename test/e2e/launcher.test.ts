// bin/resonate.js runs the compiled dist/ only while it is at least as new as every source
// file: an edited checkout must run what it has, never stale JavaScript. Checked on a copy
// of the launcher in a scratch tree whose two entry points say which one ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { childEnv, REPO_ROOT, RESONATE_BIN } from '../harness/cli.ts';
import { makeTempDir } from '../harness/tmp.ts';

after(cleanupHarness);

async function scratchTree(): Promise<string> {
  const root = await makeTempDir('resonate-launcher');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  copyFileSync(RESONATE_BIN, join(root, 'bin/resonate.js'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  const entry = (from: string) =>
    `export async function main(args: string[]) { console.log('${from}', args.join(' ')); return 3; }\n`;
  writeFileSync(join(root, 'src/cli/main.ts'), entry('source'));
  writeFileSync(join(root, 'dist/cli/main.js'), entry('dist').replace(': string[]', ''));
  return root;
}

function launch(root: string, env: Record<string, string> = {}): { out: string; code: number | null } {
  const r = spawnSync(process.execPath, [join(root, 'bin/resonate.js'), 'x', 'y'], {
    env: childEnv({ RESONATE_FROM_SOURCE: undefined, ...env }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { out: r.stdout.trim(), code: r.status };
}

const setMtime = (path: string, secondsAgo: number) => {
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(path, t, t);
};

test('the launcher runs dist/ when it is newer than every source file, the sources otherwise', async () => {
  const root = await scratchTree();
  const stamp = join(root, 'dist/.built');

  // Never built: the sources, through tsx; arguments and exit code pass through.
  assert.deepEqual(launch(root), { out: 'source x y', code: 3 });

  writeFileSync(stamp, 'built\n');
  setMtime(join(root, 'src/cli/main.ts'), 60);
  assert.deepEqual(launch(root), { out: 'dist x y', code: 3 });

  // A source file edited after the build (here one nested deeper than the entry point).
  mkdirSync(join(root, 'src/node'));
  writeFileSync(join(root, 'src/node/edited.ts'), 'export {};\n');
  assert.deepEqual(launch(root), { out: 'source x y', code: 3 });

  // Rebuilt: dist again; and the switch that forces the sources.
  writeFileSync(stamp, 'built\n');
  setMtime(join(root, 'src/node/edited.ts'), 60);
  assert.deepEqual(launch(root), { out: 'dist x y', code: 3 });
  assert.deepEqual(launch(root, { RESONATE_FROM_SOURCE: '1' }), { out: 'source x y', code: 3 });

  rmSync(stamp);
  assert.deepEqual(launch(root), { out: 'source x y', code: 3 });
});
