// errno → FsError, so callers branch on a handful of codes instead of platform errnos.
// The relative path is always attached and the original error kept as `cause`; messages
// name the errno and syscall, not the absolute (/proc/self/fd/…) path we used.
import { PathError } from './paths.ts';
import { FsError, type FsErrorCode } from './types.ts';

const BY_ERRNO: Record<string, FsErrorCode> = {
  ENOENT: 'ERR_NOT_FOUND',
  ENOTDIR: 'ERR_NOT_FOUND',
  EEXIST: 'ERR_EXISTS',
  ENOTEMPTY: 'ERR_NOT_EMPTY',
  ENOSPC: 'ERR_NO_SPACE',
  EDQUOT: 'ERR_NO_SPACE',
  EACCES: 'ERR_ACCESS',
  EPERM: 'ERR_ACCESS',
  // Only raised where we asked the kernel not to follow a symlink.
  ELOOP: 'ERR_PATH_UNSAFE',
};

export function errnoOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function fsErrorCode(err: unknown): FsErrorCode {
  const errno = errnoOf(err);
  return (errno !== undefined && BY_ERRNO[errno]) || 'ERR_IO';
}

function describe(err: unknown): string {
  const errno = errnoOf(err);
  if (errno === 'ELOOP') return 'is a symlink (not followed)';
  const syscall = typeof err === 'object' && err !== null && 'syscall' in err ? String(err.syscall) : '';
  if (errno !== undefined && syscall !== '') return `${errno} (${syscall})`;
  return err instanceof Error ? err.message : String(err);
}

/** Wrap anything thrown by node:fs (or our own checks) as an FsError for `path`. */
export function toFsError(err: unknown, path: string): FsError {
  if (err instanceof FsError) return err;
  if (err instanceof PathError) return new FsError('ERR_PATH_UNSAFE', path, err.message, err);
  return new FsError(fsErrorCode(err), path, describe(err), err);
}

/** True for "it is not there" errnos, which several callers treat as a normal outcome. */
export function isMissing(err: unknown): boolean {
  const errno = errnoOf(err);
  return errno === 'ENOENT' || errno === 'ENOTDIR';
}
