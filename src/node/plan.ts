// What to do on disk so that it shows what the replicated state says. Pure: from what
// each disk path should show (desired) and what the file index says it shows (current),
// an ordered list of actions. Data already on disk is moved rather than copied (renames,
// conflict copies stepping aside), and an identical file only gets a new label.
import { sameDot } from '../clock/vector.ts';
import { sameContent } from '../model/version.ts';
import { EntryType, type FileEntry, Kind, type Version } from '../proto/types.ts';

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

const depth = (p: string) => p.split('/').length;

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

export function plan(slots: readonly Slot[]): Action[] {
  const work = slots.filter((s) => !settled(s)).sort((a, b) => depth(a.diskPath) - depth(b.diskPath));
  // Files whose data is on its way out of their path: sources to move rather than copy.
  const leaving = new Map<string, FileEntry>();
  for (const s of work) {
    if (s.current?.type === EntryType.File && !(s.desired && holdsData(s.current, s.desired))) {
      leaving.set(s.diskPath, s.current);
    }
  }
  const moves: Action[] = [];
  const taken = new Set<string>();
  const movedInto = new Set<string>();
  for (const s of work) {
    const d = s.desired;
    if (!d || d.kind !== Kind.Put || (s.current && holdsData(s.current, d))) continue;
    if (s.current && !leaving.has(s.diskPath)) continue;
    const source = [...leaving].find(
      ([p, e]) => !taken.has(p) && p !== s.diskPath && sameContent(e.content, d.content),
    );
    if (!source) continue;
    taken.add(source[0]);
    movedInto.add(s.diskPath);
    moves.push({
      kind: 'move',
      from: source[0],
      to: s.diskPath,
      headPath: s.headPath,
      version: d,
      expect: source[1],
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
  return a.kind === 'move' ? a.to : a.path;
}

/** A move into a path that another move empties goes after it (and then expects it empty). */
function orderMoves(moves: Action[]): Action[] {
  const out: Action[] = [];
  const pending = [...moves];
  const sources = new Set(moves.map((m) => (m.kind === 'move' ? m.from : '')));
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
