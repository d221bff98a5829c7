// What a folder shows of one path's versions: the file under its own name and its conflict
// copies (NAME.conflict-<node>-<yyyymmdd-hhmmss>.EXT), with their contents.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { snapshotTree } from '../../harness/tree.ts';
import { conflictCopies } from '../lib/e2e.ts';

export interface Shown {
  /** Content under the real name (null: absent). */
  file: string | null;
  /** Conflict copy name -> content. */
  copies: Map<string, string>;
}

export async function shownVersions(dir: string, rel: string): Promise<Shown> {
  const tree = await snapshotTree(dir);
  const file = tree.has(rel) ? await readFile(join(dir, rel), 'utf8') : null;
  const copies = new Map<string, string>();
  for (const name of conflictCopies(tree, rel)) copies.set(name, await readFile(join(dir, name), 'utf8'));
  return { file, copies };
}

/** Every content shown for rel (file first, then copies by name), sorted for comparison. */
export function allContents(s: Shown): string[] {
  return [...(s.file === null ? [] : [s.file]), ...s.copies.values()].sort();
}

/** The node part of a conflict copy name (the node whose version lost). */
export function copyNode(name: string): string | null {
  return /\.conflict-([A-Za-z0-9_.-]+?)-\d{8}-\d{6}(?:-\d+)?(?:\.[^./]*)?$/.exec(name)?.[1] ?? null;
}

/** The UTC time in a conflict copy name (ms since the epoch), or null if there is none. */
export function copyTime(name: string): number | null {
  const m = /\.conflict-.+?-(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)(?:-\d+)?(?:\.[^./]*)?$/.exec(name);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** '' if the copy's time lies in [from - 1 s, to] (UTC, whole seconds), else what is wrong. */
export function copyTimeProblem(name: string, from: number, to: number): string {
  const t = copyTime(name);
  if (t === null) return `${name}: no time in the name`;
  if (t < Math.floor(from / 1000) * 1000 - 1000 || t > to)
    return `${name}: time ${new Date(t).toISOString()} not within ${new Date(from).toISOString()}..${new Date(to).toISOString()}`;
  return '';
}
