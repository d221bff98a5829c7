// What to do on disk so that it shows what the replicated state says. Pure: from what
// each disk path should show (desired) and what the file index says it shows (current),
// an ordered list of actions. Data already on disk is moved rather than copied (renames,
// conflict copies stepping aside), and an identical file only gets a new label.
import { sameDot } from '../clock/vector.ts';
import { pathDepth as depth } from '../fs/paths.ts';
import { sameContent } from '../model/version.ts';
import { type Content, EntryType, type FileEntry, Kind, type Version } from '../proto/types.ts';
import { hexOf } from '../util/hex.ts';

export interface Slot {
  diskPath: string;
  headPath: string;
  /** undefined = nothing belongs here; null = an implicit directory; else the version shown. */
  desired: Version | null | undefined;
  current: FileEntry | null;
}

export type Action =
  | { kind: 'mkdir'; path: string; headPath: string; version: Version | null; expect: FileEntry | null }
  | {
      /** A whole folder moves (a remote directory rename): one rename on disk. */
      kind: 'moveDir';
      from: string;
      to: string;
      headPath: string;
      version: Version | null;
      expect: FileEntry;
      /** Everything indexed below it, with the version each shows after the move. */
      children: { from: string; to: string; headPath: string; version: Version | null; expect: FileEntry }[];
    }
  | {
      kind: 'move';
      from: string;
      to: string;
      headPath: string;
      version: Version;
      expect: FileEntry;
      /** What the target holds before the move (replaced by it), if anything not moved away. */
      expectTo: FileEntry | null;
    }
  | { kind: 'write'; path: string; headPath: string; version: Version; expect: FileEntry | null }
  | { kind: 'relabel'; path: string; headPath: string; version: Version | null; expect: FileEntry }
  | { kind: 'remove'; path: string; expect: FileEntry }
  | { kind: 'rmdir'; path: string; expect: FileEntry };

/** The entry already shows this version's data (so at most its label and metadata differ). */
export function holdsData(e: FileEntry, v: Version | null): boolean {
  if (v === null) return e.type === EntryType.Directory;
  switch (v.kind) {
    case Kind.Put:
      return (
        e.type === EntryType.File &&
        sameContent(e.content, v.content) &&
        (e.mode & 0o777) === (v.mode & 0o777)
      );
    case Kind.Mkdir:
      return e.type === EntryType.Directory;
    case Kind.Symlink:
      return e.type === EntryType.Link && e.link === v.link;
    default:
      return false;
  }
}

function settled(s: Slot): boolean {
  const { desired, current } = s;
  if (desired === undefined) return current === null;
  if (current === null) return false;
  if (desired === null) return current.type === EntryType.Directory && current.headPath === s.headPath;
  return (
    sameDot(current.version, desired.dot) && current.headPath === s.headPath && holdsData(current, desired)
  );
}

/**
 * `indexedUnder(dir)` lists every indexed path below a folder that is going away (the
 * caller looks them up beforehand); a folder is moved whole only if all of them follow.
 */
export function plan(
  slots: readonly Slot[],
  indexedUnder: (dir: string) => readonly string[] = () => [],
): Action[] {
  const work = slots.filter((s) => !settled(s)).sort((a, b) => depth(a.diskPath) - depth(b.diskPath));
  // Files whose data is on its way out of their path: sources to move rather than copy,
  // grouped by content (a folder of 1,000 files renamed: one lookup each, not a scan).
  const leaving = new Map<string, FileEntry>();
  const leavingByContent = new Map<string, { paths: string[]; next: number }>();
  for (const s of work) {
    if (s.current?.type === EntryType.File && !(s.desired && holdsData(s.current, s.desired))) {
      leaving.set(s.diskPath, s.current);
      const key = contentKey(s.current.content);
      const group = leavingByContent.get(key);
      if (group) group.paths.push(s.diskPath);
      else leavingByContent.set(key, { paths: [s.diskPath], next: 0 });
    }
  }
  const moves: Action[] = [];
  const taken = new Set<string>();
  const movedInto = new Set<string>();
  for (const s of work) {
    const d = s.desired;
    if (!d || d.kind !== Kind.Put || (s.current && holdsData(s.current, d))) continue;
    if (s.current && !leaving.has(s.diskPath)) continue;
    // The first source in work order not taken yet, as a scan of `leaving` would find.
    const group = leavingByContent.get(contentKey(d.content));
    if (!group) continue;
    while (group.next < group.paths.length && taken.has(group.paths[group.next]!)) group.next++;
    let from: string | undefined;
    for (let i = group.next; i < group.paths.length && from === undefined; i++) {
      const p = group.paths[i]!;
      if (!taken.has(p) && p !== s.diskPath) from = p;
    }
    if (from === undefined) continue;
    taken.add(from);
    movedInto.add(s.diskPath);
    moves.push({
      kind: 'move',
      from,
      to: s.diskPath,
      headPath: s.headPath,
      version: d,
      expect: leaving.get(from)!,
      expectTo: s.current,
    });
  }
  const mkdirs: Action[] = [];
  const writes: Action[] = [];
  const removes: Action[] = [];
  const rmdirs: Action[] = [];
  for (const s of work) {
    const { desired, diskPath, headPath } = s;
    // What will be at this path when this action runs (moves go first).
    const current = taken.has(diskPath) ? null : s.current;
    if (desired === undefined) {
      if (!current) continue;
      if (current.type === EntryType.Directory)
        rmdirs.push({ kind: 'rmdir', path: diskPath, expect: current });
      else removes.push({ kind: 'remove', path: diskPath, expect: current });
      continue;
    }
    if (movedInto.has(diskPath)) continue;
    if (current && holdsData(current, desired)) {
      writes.push({ kind: 'relabel', path: diskPath, headPath, version: desired, expect: current });
    } else if (desired === null || desired.kind === Kind.Mkdir) {
      mkdirs.push({ kind: 'mkdir', path: diskPath, headPath, version: desired, expect: current });
    } else {
      writes.push({ kind: 'write', path: diskPath, headPath, version: desired, expect: current });
    }
  }
  rmdirs.sort((a, b) => depth(pathOf(b)) - depth(pathOf(a)));
  collapseFolderMoves(work, moves, mkdirs, rmdirs, writes, indexedUnder);
  // Folders first where the path is free (moves may go into them), after the moves where a
  // file has to step aside first.
  const vacated = new Set<string>();
  for (const m of moves) if (m.kind === 'move') vacated.add(m.from);
  for (const m of mkdirs)
    if (m.kind === 'mkdir' && m.expect && m.expect.type !== EntryType.Directory) vacated.add(m.path);
  const underVacated = (p: string) => [...vacated].some((v) => p.startsWith(`${v}/`));
  const isFree = (a: Action) =>
    a.kind === 'mkdir' && (!a.expect || a.expect.type === EntryType.Directory) && !underVacated(a.path);
  return [
    ...mkdirs.filter(isFree),
    ...orderMoves(moves),
    ...mkdirs.filter((a) => !isFree(a)),
    ...writes,
    ...removes,
    ...rmdirs,
  ];
}

function pathOf(a: Action): string {
  return a.kind === 'move' || a.kind === 'moveDir' ? a.to : a.path;
}

/**
 * When everything indexed under a vanishing folder S reappears at the same relative paths
 * under a new folder T (with the same data), replace the per-entry moves, the mkdirs
 * under T and the rmdirs under S by one folder rename. Edits to the lists happen in place.
 */
function collapseFolderMoves(
  work: Slot[],
  moves: Action[],
  mkdirs: Action[],
  rmdirs: Action[],
  writes: Action[],
  indexedUnder: (dir: string) => readonly string[],
): void {
  const leavingDirs = work.filter(
    (s) =>
      s.current?.type === EntryType.Directory && s.desired === undefined && s.current.headPath === s.diskPath,
  );
  for (const src of leavingDirs) {
    const S = src.diskPath;
    const inside = work.filter((s) => s.current && s.diskPath.startsWith(`${S}/`));
    const firstMove = moves.find((m) => m.kind === 'move' && m.from.startsWith(`${S}/`));
    if (firstMove?.kind !== 'move') continue;
    const rel = firstMove.from.slice(S.length);
    if (!firstMove.to.endsWith(rel)) continue;
    const T = firstMove.to.slice(0, firstMove.to.length - rel.length);
    // New folders by path and moves by source: the first of each, as find() would give.
    const newDirs = new Map<string, Action>();
    for (const m of mkdirs)
      if (m.kind === 'mkdir' && !m.expect && !newDirs.has(m.path)) newDirs.set(m.path, m);
    const movesFrom = new Map<string, Action>();
    for (const m of moves) if (m.kind === 'move' && !movesFrom.has(m.from)) movesFrom.set(m.from, m);
    const target = newDirs.get(T);
    if (target?.kind !== 'mkdir' || T.startsWith(`${S}/`)) continue;
    const children: Extract<Action, { kind: 'moveDir' }>['children'] = [];
    let ok = true;
    for (const s of inside) {
      const to = T + s.diskPath.slice(S.length);
      const cur = s.current!;
      if (cur.type === EntryType.Directory) {
        const mk = newDirs.get(to);
        if (mk?.kind !== 'mkdir' || s.desired !== undefined) {
          ok = false;
          break;
        }
        children.push({ from: s.diskPath, to, headPath: mk.headPath, version: mk.version, expect: cur });
      } else {
        const mv = movesFrom.get(s.diskPath);
        if (mv?.kind !== 'move' || mv.to !== to || mv.expectTo) {
          ok = false;
          break;
        }
        children.push({ from: s.diskPath, to, headPath: mv.headPath, version: mv.version, expect: cur });
      }
    }
    if (!ok) continue;
    const moved = new Set(children.map((c) => c.from));
    // Anything else indexed below S (not part of this move) would be carried along: no.
    if (indexedUnder(S).some((p) => !moved.has(p))) continue;
    const created = new Set([T, ...children.map((c) => c.to)]);
    remove(moves, (m) => m.kind === 'move' && moved.has(m.from));
    remove(mkdirs, (m) => m.kind === 'mkdir' && created.has(m.path));
    remove(rmdirs, (m) => m.kind === 'rmdir' && (m.path === S || moved.has(m.path)));
    remove(writes, (m) => m.kind === 'relabel' && created.has(m.path));
    moves.unshift({
      kind: 'moveDir',
      from: S,
      to: T,
      headPath: target.headPath,
      version: target.version,
      expect: src.current!,
      children,
    });
  }
}

/** Drops the matching actions in place, keeping the order (one pass: splicing each was quadratic). */
function remove(list: Action[], pred: (a: Action) => boolean): void {
  let kept = 0;
  for (const a of list) if (!pred(a)) list[kept++] = a;
  list.length = kept;
}

/** Equal keys exactly when sameContent holds: size and digest; no content is its own key. */
function contentKey(c: Content | null): string {
  return c ? `${c.size}:${hexOf(c.digest)}` : '-';
}

/** A move into a path that another move empties goes after it (and then expects it empty). */
function orderMoves(moves: Action[]): Action[] {
  const out: Action[] = moves.filter((m) => m.kind === 'moveDir');
  const pending = moves.filter((m) => m.kind === 'move');
  const sources = new Set(pending.map((m) => (m.kind === 'move' ? m.from : '')));
  while (pending.length) {
    const i = pending.findIndex((m) => m.kind === 'move' && !sources.has(m.to));
    const [m] = pending.splice(Math.max(i, 0), 1);
    if (m?.kind !== 'move') continue;
    sources.delete(m.from);
    const vacated = out.some((o) => o.kind === 'move' && o.from === m.to);
    out.push(vacated ? { ...m, expectTo: null } : m);
  }
  return out;
}
