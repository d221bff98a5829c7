import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ofDot } from '../../src/clock/vector.ts';
import { plan, type Slot } from '../../src/node/plan.ts';
import { type Content, EntryType, type FileEntry, Kind, type Version } from '../../src/proto/types.ts';

const content = (tag: number): Content => ({
  size: 1,
  digest: new Uint8Array([tag]),
  blocks: [],
  inlineData: new Uint8Array(),
});
const ver = (seq: number, kind: Version['kind'] = Kind.Put, tag = seq): Version => ({
  dot: { origin: 'o~1', seq },
  clock: ofDot({ origin: 'o~1', seq }),
  hlc: seq,
  kind,
  mode: 0o644,
  mtimeMs: 0,
  content: kind === Kind.Put ? content(tag) : null,
  link: '',
});
const entry = (path: string, v: Version, type: EntryType = EntryType.File): FileEntry => ({
  type,
  size: 1,
  mtimeMs: 1,
  ino: path.length,
  mode: 0o644,
  ctimeMs: 1,
  content: v.content,
  link: '',
  headPath: path,
  version: v.dot,
});
const kinds = (s: Slot[]) =>
  plan(s, (dir) => s.filter((x) => x.current && x.diskPath.startsWith(`${dir}/`)).map((x) => x.diskPath)).map(
    (a) =>
      a.kind === 'move' || a.kind === 'moveDir' ? `${a.kind} ${a.from}->${a.to}` : `${a.kind} ${a.path}`,
  );

test('a settled layout needs nothing', () => {
  const v = ver(1);
  assert.deepEqual(kinds([{ diskPath: 'a', headPath: 'a', desired: v, current: entry('a', v) }]), []);
});

test('same data under a new version is only relabelled', () => {
  const old = ver(1, Kind.Put, 7);
  const next = ver(2, Kind.Put, 7);
  assert.deepEqual(kinds([{ diskPath: 'a', headPath: 'a', desired: next, current: entry('a', old) }]), [
    'relabel a',
  ]);
});

test('a loser steps aside by a move, then the winner is written', () => {
  const mine = ver(1, Kind.Put, 1);
  const theirs = ver(2, Kind.Put, 2);
  const slots: Slot[] = [
    { diskPath: 'a', headPath: 'a', desired: theirs, current: entry('a', mine) },
    { diskPath: 'a.conflict-x', headPath: 'a', desired: mine, current: null },
  ];
  assert.deepEqual(kinds(slots), ['move a->a.conflict-x', 'write a']);
  const w = plan(slots).find((a) => a.kind === 'write');
  assert.equal(w?.kind === 'write' && w.expect, null, 'the write expects the path empty after the move');
});

test('a renamed folder moves as one rename', () => {
  const d = ver(1, Kind.Mkdir);
  const f = ver(2, Kind.Put, 5);
  const g = ver(3, Kind.Put, 6);
  const d2 = ver(4, Kind.Mkdir);
  const f2 = ver(4, Kind.Put, 5);
  const g2 = ver(4, Kind.Put, 6);
  const slots: Slot[] = [
    { diskPath: 'src', headPath: 'src', desired: undefined, current: entry('src', d, EntryType.Directory) },
    { diskPath: 'src/f', headPath: 'src/f', desired: undefined, current: entry('src/f', f) },
    { diskPath: 'src/g', headPath: 'src/g', desired: undefined, current: entry('src/g', g) },
    { diskPath: 'dst', headPath: 'dst', desired: d2, current: null },
    { diskPath: 'dst/f', headPath: 'dst/f', desired: f2, current: null },
    { diskPath: 'dst/g', headPath: 'dst/g', desired: g2, current: null },
  ];
  assert.deepEqual(kinds(slots), ['moveDir src->dst']);
  const [a] = plan(slots, () => ['src/f', 'src/g']);
  assert.equal(a?.kind === 'moveDir' && a.children.length, 2);
});

test('a folder with something that does not follow is moved entry by entry', () => {
  const d = ver(1, Kind.Mkdir);
  const f = ver(2, Kind.Put, 5);
  const keep = ver(3, Kind.Put, 6);
  const slots: Slot[] = [
    { diskPath: 'src', headPath: 'src', desired: undefined, current: entry('src', d, EntryType.Directory) },
    { diskPath: 'src/f', headPath: 'src/f', desired: undefined, current: entry('src/f', f) },
    { diskPath: 'src/keep', headPath: 'src/keep', desired: keep, current: entry('src/keep', keep) },
    { diskPath: 'dst', headPath: 'dst', desired: ver(4, Kind.Mkdir), current: null },
    { diskPath: 'dst/f', headPath: 'dst/f', desired: ver(4, Kind.Put, 5), current: null },
  ];
  assert.deepEqual(kinds(slots), ['mkdir dst', 'move src/f->dst/f', 'rmdir src']);
});

test('removals come after writes, deepest folders first', () => {
  const slots: Slot[] = [
    {
      diskPath: 'x',
      headPath: 'x',
      desired: undefined,
      current: entry('x', ver(1, Kind.Mkdir), EntryType.Directory),
    },
    {
      diskPath: 'x/y',
      headPath: 'x/y',
      desired: undefined,
      current: entry('x/y', ver(2, Kind.Mkdir), EntryType.Directory),
    },
    { diskPath: 'x/y/z', headPath: 'x/y/z', desired: undefined, current: entry('x/y/z', ver(3)) },
    { diskPath: 'n', headPath: 'n', desired: ver(4), current: null },
  ];
  assert.deepEqual(kinds(slots), ['write n', 'remove x/y/z', 'rmdir x/y', 'rmdir x']);
});

test('files with the same content pair up with sources in order, each source used once', () => {
  // Three identical files leave, two arrive (one arrives where a source was): each arrival
  // takes the first source not yet taken and not its own path; the rest are removed.
  const same = (seq: number) => ver(seq, Kind.Put, 9);
  const slots: Slot[] = [
    { diskPath: 'a', headPath: 'a', desired: undefined, current: entry('a', same(1)) },
    { diskPath: 'b', headPath: 'b', desired: ver(5, Kind.Put, 8), current: entry('b', same(2)) },
    { diskPath: 'c', headPath: 'c', desired: undefined, current: entry('c', same(3)) },
    { diskPath: 'x', headPath: 'x', desired: same(4), current: null },
    { diskPath: 'y', headPath: 'y', desired: same(6), current: null },
  ];
  assert.deepEqual(kinds(slots), ['move a->x', 'move b->y', 'write b', 'remove c']);
});

test('a folder of 2,000 files renamed is one rename with every entry as a child', () => {
  const n = 2000;
  const slots: Slot[] = [
    {
      diskPath: 'src',
      headPath: 'src',
      desired: undefined,
      current: entry('src', ver(1, Kind.Mkdir), EntryType.Directory),
    },
    { diskPath: 'dst', headPath: 'dst', desired: ver(2, Kind.Mkdir), current: null },
  ];
  for (let i = 0; i < n; i++) {
    // Pairs of files share a content: the children must still map name to same name.
    const tag = 10 + (i >> 1);
    slots.push({
      diskPath: `src/f${i}`,
      headPath: `src/f${i}`,
      desired: undefined,
      current: entry(`src/f${i}`, ver(3 + i, Kind.Put, tag)),
    });
    slots.push({
      diskPath: `dst/f${i}`,
      headPath: `dst/f${i}`,
      desired: ver(3 + n + i, Kind.Put, tag),
      current: null,
    });
  }
  const actions = plan(slots, (dir) =>
    dir === 'src'
      ? slots
          .slice(2)
          .filter((_, k) => k % 2 === 0)
          .map((s) => s.diskPath)
      : [],
  );
  assert.equal(actions.length, 1);
  const [a] = actions;
  assert.equal(a?.kind, 'moveDir');
  if (a?.kind !== 'moveDir') return;
  assert.equal(a.children.length, n);
  for (const c of a.children) assert.equal(c.to, `dst${c.from.slice(3)}`);
});
