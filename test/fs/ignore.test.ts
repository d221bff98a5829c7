import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIgnoreRules, parseIgnoreFile } from '../../src/fs/ignore.ts';

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
