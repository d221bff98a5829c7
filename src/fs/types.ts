// The filesystem as the node core sees it: paths relative to the synced folder,
// '/'-separated. The daemon uses DiskFs (real folder); the simulator an in-memory one.
// Implementations confine every path to the folder and never write through a symlink.

export type EntryKind = 'file' | 'dir' | 'link' | 'other';

export interface Stat {
  kind: EntryKind;
  size: number;
  /** lstat mtimeMs / ctimeMs (sub-millisecond precision kept). */
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** Permission bits only (mode & 0o7777). */
  mode: number;
}

export interface DirEntry {
  name: string;
  kind: EntryKind;
}

export interface ReadHandle {
  /** Read up to `length` bytes at `position` into `buf` at `offset`; returns bytes read (0 at EOF). */
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  stat(): Promise<Stat>;
  close(): Promise<void>;
}

/** A small file read whole (FileSystem.readSmall): its stat at open, hashes, inline bytes. */
export interface SmallFile {
  stat: Stat;
  /** SHA-256 of the bytes (empty for an empty file). */
  hash: Uint8Array;
  /** SHA-256 of `hash`: a one-block content's digest (SHA-256 of nothing for an empty file). */
  digest: Uint8Array;
  /** The bytes when size <= inlineMax, else empty. */
  inline: Uint8Array;
}

export interface CommitOptions {
  mode: number;
  mtimeMs: number;
  /**
   * What the target must still be right before the rename: null = must not exist,
   * undefined = do not check. On mismatch commit throws FsError code 'ERR_TARGET_CHANGED'
   * and leaves the target untouched (the temp file is removed).
   */
  expect?: Stat | null | undefined;
  /** fsync the folder after the rename (default true); false when the caller syncs folders in batches. */
  syncDir?: boolean;
}

export interface TempFile {
  /** Relative path of the temp file (in the target's folder, named so scans ignore it). */
  readonly path: string;
  /**
   * `copied`: the bytes were read from this disk (blocks reused from local files). A file
   * written past the page cache (createTemp's `size`) takes them through it all the same.
   */
  write(data: Uint8Array, position: number, copied?: boolean): Promise<void>;
  /**
   * Set the final mode and mtime and fsync the data: everything slow, done before (and
   * outside of any lock around) commit. Optional; commit does it if it was not done.
   */
  prepare(meta: { mode: number; mtimeMs: number }): Promise<void>;
  /** (prepare,) re-check the target, rename over it, fsync the folder. */
  commit(target: string, opts: CommitOptions): Promise<Stat>;
  /** Remove the temp file (idempotent). */
  abort(): Promise<void>;
}

export interface FileSystem {
  /** Absolute location, for messages only. */
  readonly root: string;
  lstat(path: string): Promise<Stat | null>;
  readdir(path: string): Promise<DirEntry[]>;
  /** readdir plus the lstat of each entry (null if it vanished meanwhile), in one pass over the folder. */
  readdirStat(path: string): Promise<{ name: string; stat: Stat | null }[]>;
  readlink(path: string): Promise<string>;
  openRead(path: string): Promise<ReadHandle>;
  /**
   * Optional fast path: regular files of at most `max` bytes read and hashed in one batch.
   * An entry is null where that plain case did not hold (the caller looks at the path the
   * ordinary way, which reports why); the whole answer is null if the fast path is
   * unavailable.
   */
  readSmall?(paths: string[], max: number, inlineMax: number): Promise<(SmallFile | null)[] | null>;
  /**
   * A temp file in the folder that will hold `target` (which must be a directory). `size`,
   * the bytes it will hold if known, lets a large file be written past the page cache.
   */
  createTemp(target: string, size?: number): Promise<TempFile>;
  mkdir(path: string, mode?: number): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Atomic rename within the folder (file or directory); fails if `to` is a non-empty directory. */
  rename(from: string, to: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  utimes(path: string, mtimeMs: number): Promise<void>;
  fsyncDir(path: string): Promise<void>;
}

export type FsErrorCode =
  | 'ERR_TARGET_CHANGED'
  | 'ERR_PATH_UNSAFE'
  | 'ERR_NOT_FOUND'
  | 'ERR_EXISTS'
  | 'ERR_NOT_EMPTY'
  | 'ERR_NO_SPACE'
  | 'ERR_IO'
  | 'ERR_ACCESS';

export class FsError extends Error {
  constructor(
    readonly code: FsErrorCode,
    readonly path: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`${path}: ${message}`);
  }
}
