// A file that moved (size, mtime or ctime) while it was hashed: the caller looks again later.
export class ChangedWhileReadingError extends Error {
  readonly code = 'ERR_CHANGED_WHILE_READING';
  constructor(readonly path: string) {
    super(`${path}: changed while being read`);
  }
}
