// Looking at one path on disk: its lstat, and for files their content (hashed in blocks),
// for links their target. And the comparisons that decide whether the disk still shows
// what the file index recorded.

import { type HashOptions, INLINE_MAX } from '../fs/hash-pipeline.ts';
import { hashFile, SMALL_FILE_MAX, smallContent } from '../fs/hasher.ts';
import type { FileSystem, Stat } from '../fs/types.ts';
import { sameContent } from '../model/version.ts';
import { type Content, type Dot, EntryType, type FileEntry, Kind, type Version } from '../proto/types.ts';

export interface Observation {
  path: string;
  stat: Stat | null;
  content: Content | null;
  link: string;
  /** Bytes of a large file found in the blocks of its last reading (fs/rehash.ts). */
  reused?: number;
}

/** lstat plus content; a file that changes while being read throws ERR_CHANGED_WHILE_READING. */
export async function observe(
  fs: FileSystem,
  path: string,
  opts?: HashOptions,
  known?: Stat | null,
): Promise<Observation> {
  // A stat taken a moment ago (by the walk) is enough to decide the kind; files are
  // stat'ed again through their open handle anyway.
  const stat = known ?? (await fs.lstat(path));
  if (!stat) return { path, stat: null, content: null, link: '' };
  if (stat.kind === 'file') {
    const { content, stat: at, reused } = await hashFile(fs, path, opts);
    return { path, stat: at, content, link: '', ...(reused > 0 ? { reused } : {}) };
  }
  if (stat.kind === 'link') return { path, stat, content: null, link: await fs.readlink(path) };
  return { path, stat, content: null, link: '' };
}

/**
 * Files of at most SMALL_FILE_MAX bytes looked at in one batch, where the filesystem can
 * (FileSystem.readSmall). Null where it did not answer: look at that path with observe().
 */
export async function observeSmall(fs: FileSystem, paths: string[]): Promise<(Observation | null)[]> {
  const read = paths.length > 0 ? await fs.readSmall?.(paths, SMALL_FILE_MAX, INLINE_MAX) : null;
  return paths.map((path, i) => {
    const f = read?.[i];
    return f ? { path, stat: f.stat, content: smallContent(f), link: '' } : null;
  });
}

export function entryType(stat: Stat): EntryType {
  return stat.kind === 'file' ? EntryType.File : stat.kind === 'dir' ? EntryType.Directory : EntryType.Link;
}

/** The disk still shows exactly what the index recorded (no need to look inside). */
export function statMatches(stat: Stat | null, entry: FileEntry | null): boolean {
  if (!stat || !entry) return !stat && !entry;
  if (entryType(stat) !== entry.type || stat.ino !== entry.ino) return false;
  // Directory times change with their contents; their permissions are synced.
  if (stat.kind === 'dir') return (stat.mode & 0o777) === (entry.mode & 0o777);
  return (
    (stat.kind === 'link' || stat.size === entry.size) && // a link's size is its target's length: we store 0
    stat.mtimeMs === entry.mtimeMs &&
    stat.ctimeMs === entry.ctimeMs &&
    (stat.mode & 0o777) === (entry.mode & 0o777)
  );
}

export function entryOf(obs: Observation, headPath: string, version: Dot | null): FileEntry {
  const s = obs.stat!;
  return {
    type: entryType(s),
    size: s.kind === 'file' ? s.size : 0,
    mtimeMs: s.mtimeMs,
    ino: s.ino,
    mode: s.mode,
    ctimeMs: s.ctimeMs,
    content: obs.content,
    link: obs.link,
    headPath,
    version,
  };
}

/** The disk shows this version's data (kind, bytes or link target; for files also the mode). */
export function showsVersion(obs: Observation, v: Version | null): boolean {
  const s = obs.stat;
  if (!s) return false;
  if (v === null) return s.kind === 'dir';
  switch (v.kind) {
    case Kind.Put:
      return (
        s.kind === 'file' && sameContent(obs.content, v.content) && (s.mode & 0o111) === (v.mode & 0o111)
      );
    case Kind.Mkdir:
      return s.kind === 'dir' && (s.mode & 0o777) === dirMode(v);
    case Kind.Symlink:
      return s.kind === 'link' && obs.link === v.link;
    default:
      return false;
  }
}

/** The permissions a folder version asks for (0755 when it carries none). */
export function dirMode(v: Version | null): number {
  return (v?.mode ?? 0) & 0o777 || 0o755;
}
