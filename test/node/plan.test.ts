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
