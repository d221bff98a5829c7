import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ofDot } from '../../src/clock/vector.ts';
import { conflictName, conflictPaths } from '../../src/model/conflict-name.ts';
import { resolve } from '../../src/model/resolve.ts';
import { type Content, Kind, type Version } from '../../src/proto/types.ts';

const content = (tag: number): Content => ({
  size: 1,
  digest: new Uint8Array([tag]),
  blocks: [],
  inlineData: new Uint8Array(),
});

function mk(origin: string, seq: number, hlc: number, kind: Version['kind'], tag = seq): Version {
  return {
    dot: { origin, seq },
    clock: ofDot({ origin, seq }),
    hlc,
    kind,
    mode: 0o644,
    mtimeMs: 0,
    content: kind === Kind.Put ? content(tag) : null,
    link: '',
  };
}
const none = { hasLiveChildren: false, isCommitted: () => false };

test('data beats deletion', () => {
  const del = mk('b~1', 1, 100, Kind.Delete);
  const put = mk('a~1', 1, 50, Kind.Put);
  const r = resolve([del, put], none);
  assert.equal(r.winner, put);
  assert.deepEqual(r.losers, []);
});

test('all tombstones: the path is absent', () => {
  const r = resolve([mk('a~1', 1, 1, Kind.Delete), mk('b~1', 1, 2, Kind.Delete)], none);
  assert.equal(r.winner, null);
  assert.equal(r.directory, false);
});

test('a committed version beats a later uncommitted one', () => {
  const old = mk('a~1', 1, 10, Kind.Put);
  const late = mk('b~1', 1, 99, Kind.Put, 2);
  const r = resolve([late, old], { hasLiveChildren: false, isCommitted: (v) => v === old });
  assert.equal(r.winner, old);
  assert.deepEqual(r.losers, [late]);
});

test('identical concurrent contents are not a conflict', () => {
  const a = mk('a~1', 1, 10, Kind.Put, 7);
  const b = mk('b~1', 1, 20, Kind.Put, 7);
  const r = resolve([a, b], none);
  assert.equal(r.winner, b);
  assert.deepEqual(r.losers, []);
});

test('a path with live children is a directory; files there become conflict copies', () => {
  const f = mk('a~1', 1, 10, Kind.Put);
  const r = resolve([f], { hasLiveChildren: true, isCommitted: () => false });
  assert.equal(r.winner, null);
  assert.equal(r.directory, true);
  assert.deepEqual(r.losers, [f]);
});

test('the winner is the same whatever the order of the versions', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.record({
          o: fc.constantFrom('a~1', 'b~1', 'c~1'),
          s: fc.integer({ min: 1, max: 5 }),
          h: fc.integer({ min: 0, max: 3 }),
          k: fc.constantFrom(Kind.Put, Kind.Delete, Kind.Mkdir, Kind.Symlink),
        }),
        { selector: (x) => `${x.o}:${x.s}`, maxLength: 6 },
      ),
      fc.boolean(),
      (specs, children) => {
        const vs = specs.map((x) => mk(x.o, x.s, x.h, x.k));
        const ctx = { hasLiveChildren: children, isCommitted: (v: Version) => v.dot.seq === 2 };
        const a = resolve(vs, ctx);
        const b = resolve([...vs].reverse(), ctx);
        assert.equal(a.winner?.dot.seq, b.winner?.dot.seq);
        assert.equal(a.winner?.dot.origin, b.winner?.dot.origin);
        assert.deepEqual(
          a.losers.map((v) => v.dot),
          b.losers.map((v) => v.dot),
        );
      },
    ),
  );
});

test('conflict names keep the extension and name the losing node and UTC time', () => {
  const v = mk('laptop~abc', 3, Date.UTC(2026, 0, 2, 3, 4, 5) * 1024, Kind.Put);
  assert.equal(conflictName('docs/report.txt', v), 'docs/report.conflict-laptop-20260102-030405.txt');
  assert.equal(conflictName('Makefile', v), 'Makefile.conflict-laptop-20260102-030405');
  assert.equal(conflictName('.bashrc', v), '.bashrc.conflict-laptop-20260102-030405');
  const w = { ...v, dot: { origin: 'laptop~abc', seq: 4 } };
  assert.deepEqual(
    conflictPaths('a.txt', [v, w], () => false),
    ['a.conflict-laptop-20260102-030405.txt', 'a.conflict-laptop-20260102-030405-2.txt'],
  );
});

test('a conflict copy name leads back to its path', async () => {
  const { conflictBase } = await import('../../src/model/conflict-name.ts');
  const v = mk('laptop~abc', 3, Date.UTC(2026, 0, 2, 3, 4, 5) * 1024, Kind.Put);
  for (const p of ['docs/report.txt', 'Makefile', '.bashrc', 'a.b.c', 'dir.x/y']) {
    assert.equal(conflictBase(conflictName(p, v)), p);
    assert.equal(conflictBase(conflictName(p, v, 2)), p);
  }
  assert.equal(conflictBase('plain.txt'), null);
});

test('conflict names of long file names stay within 255 bytes', async () => {
  const { conflictBase } = await import('../../src/model/conflict-name.ts');
  const v = mk('laptop~abc', 3, Date.UTC(2026, 0, 2, 3, 4, 5) * 1024, Kind.Put);
  for (const base of ['a'.repeat(255), 'é'.repeat(127), `${'x'.repeat(250)}.txt`]) {
    const name = conflictName(`dir/${base}`, v).slice(4);
    assert.ok(Buffer.byteLength(name) <= 255, `${Buffer.byteLength(name)} bytes`);
    assert.ok(!name.includes('\uFFFD'));
    assert.ok(conflictBase(`dir/${name}`) !== null);
  }
});
