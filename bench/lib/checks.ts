// Conditions the receiving side must reach, written as Arrival checks: cheap tests first
// (lstat, size), the content hash only when everything else already matches.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Check } from './arrival.ts';
import { type Expected, sha256, sha256File } from './content.ts';
import { MiB } from './sizes.ts';

async function matches(path: string, e: Expected): Promise<boolean> {
  const st = await lstat(path).catch(() => null);
  if (!st?.isFile() || st.size !== e.size) return false;
  const hash = e.size <= MiB ? sha256(await readFile(path)) : await sha256File(path);
  return hash === e.sha256;
}

/** dir/rel has exactly this content. */
export function fileIs(dir: string, rel: string, e: Expected): Check {
  return async (changed) => (changed === null || changed.has(rel) ? matches(join(dir, rel), e) : false);
}

/** Every file of the set is there with its content (only changed paths are re-read). */
export function filesAre(dir: string, expected: Map<string, Expected>): Check {
  const pending = new Set(expected.keys());
  return async (changed) => {
    const todo = changed === null ? [...pending] : [...changed].filter((p) => pending.has(p));
    for (const rel of todo) if (await matches(join(dir, rel), expected.get(rel)!)) pending.delete(rel);
    return pending.size === 0;
  };
}

/** dir/rel no longer exists. */
export function gone(dir: string, rel: string): Check {
  return async () => (await lstat(join(dir, rel)).catch(() => null)) === null;
}

/** A folder moved: `from` is gone and `to` holds every expected file (rel inside the folder). */
export function folderMoved(dir: string, from: string, to: string, expected: Map<string, Expected>): Check {
  return async () => {
    if (await lstat(join(dir, from)).catch(() => null)) return false;
    const names = await readdir(join(dir, to)).catch(() => [] as string[]);
    if (names.filter((n) => expected.has(n)).length !== expected.size) return false;
    for (const [name, e] of expected) if (!(await matches(join(dir, to, name), e))) return false;
    return true;
  };
}
