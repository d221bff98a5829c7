// The paths a FileSystem implementation accepts: synced paths (checkPath), the root ''
// where an operation allows it, and temp files (TEMP_PREFIX…) inside a synced folder,
// which only FileSystems create and which checkPath refuses on purpose. Every refusal is
// an FsError ERR_PATH_UNSAFE carrying the offending path.

import { randomBytes } from 'node:crypto';
import { hexOf } from '../util/hex.ts';
import { baseName, parentOf, pathProblem, TEMP_PREFIX } from './paths.ts';
import { FsError } from './types.ts';

/**
 * Random bytes for temp names, cut from a 4 KiB draw: a draw per name cost ~10 µs (1.5% of
 * a 5,000-file burst's receiver). They only need to be hard to guess; O_EXCL does the rest.
 */
const RANDOM_POOL = 4096;
let randomPool = new Uint8Array(0);
let randomAt = 0;
export function pooledRandom(n: number): Uint8Array {
  if (n > RANDOM_POOL) return randomBytes(n);
  if (randomAt + n > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL);
    randomAt = 0;
  }
  randomAt += n;
  return randomPool.subarray(randomAt - n, randomAt);
}

/** A fresh temp-file name from random bytes (hex, so it is a valid single component). */
export function tempName(random: Uint8Array): string {
  return `${TEMP_PREFIX}${hexOf(random)}`;
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

function problem(path: unknown, allowRoot: boolean): string | null {
  if (typeof path !== 'string') return 'not a string';
  if (path === '') return allowRoot ? null : 'empty';
  const base = baseName(path);
  if (!isTempName(base)) return pathProblem(path);
  // A temp file: its folder must be a synced path and the rest of its name a plain name
  // (leftovers from a crash are found on disk, so any such name must stay removable).
  const rest = base.slice(TEMP_PREFIX.length);
  if (rest === '' || rest.includes('/')) return 'malformed temp-file name';
  const restProblem = pathProblem(rest.startsWith(TEMP_PREFIX) ? `x${rest}` : rest);
  if (restProblem !== null) return `temp-file name: ${restProblem}`;
  const dir = parentOf(path);
  return dir === '' ? null : pathProblem(dir);
}

/** Returns the path if a FileSystem may operate on it; throws ERR_PATH_UNSAFE otherwise. */
export function checkFsPath(path: unknown, allowRoot = false): string {
  const reason = problem(path, allowRoot);
  if (reason !== null) throw new FsError('ERR_PATH_UNSAFE', String(path), `unsafe path (${reason})`);
  return path as string;
}

/** Like checkFsPath but refuses temp names: only real synced paths (or '' if allowed). */
export function checkSyncedPath(path: unknown, allowRoot = false): string {
  if (allowRoot && path === '') return '';
  const reason = pathProblem(path);
  if (reason !== null) throw new FsError('ERR_PATH_UNSAFE', String(path), `unsafe path (${reason})`);
  return path as string;
}

/** Text stored in a symlink: any non-empty string without NUL (the caller vets targets). */
export function checkLinkText(target: unknown, path: string): string {
  if (typeof target !== 'string' || target === '' || target.includes('\0')) {
    throw new FsError('ERR_PATH_UNSAFE', path, 'symlink target must be a non-empty string without NUL');
  }
  return target;
}
