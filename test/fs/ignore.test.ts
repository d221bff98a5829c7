import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import ignore from 'ignore';
import { createIgnoreRules, DEFAULT_IGNORES, defaultIgnores, parseIgnoreFile } from '../../src/fs/ignore.ts';
import { isOwnName } from '../../src/fs/paths.ts';

test('our own names are always ignored', () => {
  const r = createIgnoreRules();
  assert.equal(r.ignores('.resonate', true), true);
  assert.equal(r.ignores('.resonate/log/000001.log', false), true);
  assert.equal(r.ignores('a/.resonate-tmp-x1', false), true);
  assert.equal(r.ignores('a/b.txt', false), false);
  assert.equal(r.ignores('sub/.resonate', true), false, 'only the root state folder is ours');
});

test('.resonateignore patterns follow gitignore rules', () => {
  const r = createIgnoreRules(
    parseIgnoreFile('# build output\n*.o\nbuild/\n/top-only.txt\n!keep.o\nnode_modules\n\n'),
  );
  assert.deepEqual(r.patterns, ['*.o', 'build/', '/top-only.txt', '!keep.o', 'node_modules']);
  assert.equal(r.ignores('x.o', false), true);
  assert.equal(r.ignores('deep/dir/x.o', false), true);
  assert.equal(r.ignores('keep.o', false), false);
  assert.equal(r.ignores('build', true), true);
  assert.equal(r.ignores('build', false), false, 'a trailing slash matches directories only');
  assert.equal(r.ignores('src/build', true), true);
  assert.equal(r.ignores('top-only.txt', false), true);
  assert.equal(r.ignores('sub/top-only.txt', false), false);
  assert.equal(r.ignores('a/node_modules', true), true);
  assert.equal(r.ignores('.resonateignore', false), false, 'the ignore file itself is synced');
});

test("editors' temp and lock files are not synced unless re-included", () => {
  const r = createIgnoreRules();
  for (const p of [
    '.goutputstream-ABC123',
    'dir/.notes.txt.swp',
    '.#notes.txt',
    '.~lock.report.odt#',
    '~$report.docx',
  ]) {
    assert.equal(r.ignores(p, false), true, p);
  }
  assert.equal(r.ignores('notes.txt', false), false);
  assert.equal(createIgnoreRules(['!.#*']).ignores('.#notes.txt', false), false);
});

test('without a .resonateignore, the built-in rules agree with the ignore package on any path', () => {
  const reference = ignore().add(DEFAULT_IGNORES);
  // Names built from the patterns' own fragments, so that near misses come up often.
  const piece = fc.constantFrom(
    '.',
    '#',
    '~',
    '$',
    '-',
    ' ',
    'a',
    'B',
    '\n',
    '.swp',
    '.SWO',
    '.swx',
    '.sw',
    '.#',
    '.~lock.',
    '.~LOCK.',
    '~$',
    '.goutputstream-',
    '.GOUTPUTSTREAM-',
    '.goutputstream',
    'x.txt',
  );
  const name = fc.array(piece, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
  const path = fc
    .array(name, { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join('/'))
    .filter((p) => !p.split('/').some((n) => n === '.' || n === '..'));
  const rules = createIgnoreRules();
  fc.assert(
    fc.property(path, fc.boolean(), (p, isDir) => {
      const expected = isOwnName(p) || reference.ignores(isDir ? `${p}/` : p);
      assert.equal(rules.ignores(p, isDir), expected, p);
      assert.equal(defaultIgnores(p), reference.ignores(p), p);
    }),
    { numRuns: 5000 },
  );
});

test("answers stay the same across the rebuilds that bound the matcher's memory", () => {
  const r = createIgnoreRules(['*.o', '!keep.o']);
  for (let i = 0; i < 50_000; i++) {
    assert.equal(r.ignores(`d${i % 97}/f${i}.o`, false), true);
    if (i % 1000 === 0) assert.equal(r.ignores(`d/keep.o`, false), false);
  }
});
