// Why a path cannot be reached safely: a directory on the way is missing, a symlink, not
// a directory, or changed under us. Shared by DiskFs and the in-memory simulator FS so
// both refuse the same things with the same codes.
import { FsError } from './types.ts';

export type AncestorReason = 'missing' | 'symlink' | 'notdir' | 'changed';

/** A directory on the way to a path (or the directory operand itself) is not usable. */
export class AncestorError extends FsError {
  constructor(
    readonly reason: AncestorReason,
    path: string,
    component: string,
    notFound = reason === 'missing',
  ) {
    const at = component === '' ? 'the synced folder' : JSON.stringify(component);
    const why = {
      missing: `${at} does not exist`,
      symlink: `${at} is a symlink; refusing to go through it`,
      notdir: `${at} is not a directory`,
      changed: `${at} changed while it was being opened`,
    }[reason];
    super(notFound ? 'ERR_NOT_FOUND' : 'ERR_PATH_UNSAFE', path, why);
  }
}
