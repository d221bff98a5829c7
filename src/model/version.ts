// Versions of a path and how they relate. A version is what one operation made at one
// path: a file, a directory, a symlink, or a tombstone (Kind.Delete).
import { covers, sameDot } from '../clock/vector.ts';
import { type Content, Kind, type Version } from '../proto/types.ts';

export function isTombstone(v: Version): boolean {
  return isTombstoneKind(v.kind);
}

/** The same rule on a version's kind alone (start-up reads only the kinds of a head). */
export function isTombstoneKind(kind: Kind): boolean {
  return kind === Kind.Delete;
}

export function isDirectory(v: Version): boolean {
  return v.kind === Kind.Mkdir;
}

/** v was made knowing w (w is in v's history), so v replaces w. */
export function dominates(v: Version, w: Version): boolean {
  return !sameDot(v.dot, w.dot) && covers(v.clock, w.dot);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function sameContent(a: Content | null, b: Content | null): boolean {
  if (!a || !b) return a === b;
  return a.size === b.size && sameBytes(a.digest, b.digest);
}

/** Same kind and same bytes (or same link target): two such versions are not a conflict. */
export function sameData(a: Version, b: Version): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === Kind.Put) return sameContent(a.content, b.content);
  if (a.kind === Kind.Symlink) return a.link === b.link;
  return true;
}

/** The node id part of an origin ("<node id>~<log id>"). */
export function nodeOf(origin: string): string {
  const i = origin.lastIndexOf('~');
  return i < 0 ? origin : origin.slice(0, i);
}
