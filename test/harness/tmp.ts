// Temporary folders that tests create and always remove: every folder made here is
// registered, and cleanupAll() (in an `after` hook) deletes them all, even when a test
// left read-only files or folders behind. RESONATE_KEEP_TMP=1 keeps them for debugging.
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const registry = new Set<string>();
const keep = () => process.env.RESONATE_KEEP_TMP === '1';

/** A fresh empty folder under os.tmpdir(), removed by cleanupAll(). */
export async function makeTempDir(prefix = 'resonate-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix.endsWith('-') ? prefix : `${prefix}-`));
  registry.add(dir);
  return dir;
}

/** Make every folder under dir writable and searchable, so rm can delete its entries. */
async function unlockTree(dir: string): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await chmod(dir, 0o700);
  for (const name of await readdir(dir)) await unlockTree(join(dir, name));
}

/** Remove one folder (registered or not), read-only contents included. */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    // EACCES inside a read-only folder (only without root): unlock, then try again.
    await unlockTree(dir);
    await rm(dir, { recursive: true, force: true });
  }
  registry.delete(dir);
}

/** Remove every folder made by makeTempDir in this process. */
export async function cleanupAll(): Promise<void> {
  if (keep()) {
    for (const dir of registry) process.stderr.write(`# kept temp dir ${dir}\n`);
    registry.clear();
    return;
  }
  const dirs = [...registry];
  const results = await Promise.allSettled(dirs.map((d) => removeTree(d)));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${dirs[i]}: ${String(r.reason)}`] : [],
  );
  if (failed.length > 0) throw new Error(`cleanupAll could not remove:\n${failed.join('\n')}`);
}

/** Folders still registered (for tests of the harness itself). */
export function tempDirs(): string[] {
  return [...registry];
}

function unlockTreeSync(dir: string): void {
  try {
    if (!lstatSync(dir).isDirectory()) return;
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir)) unlockTreeSync(join(dir, name));
  } catch {
    // best effort at exit
  }
}

// Last resort if a test file forgot cleanupAll or crashed: exit handlers must be synchronous.
process.once('exit', () => {
  if (keep()) return;
  for (const dir of registry) {
    unlockTreeSync(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Synchronous variant for callers outside async hooks. */
export function makeTempDirSync(prefix = 'resonate-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix.endsWith('-') ? prefix : `${prefix}-`));
  registry.add(dir);
  return dir;
}
