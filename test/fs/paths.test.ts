// The synced-path rules: specific cases, and the fast path for plain ASCII against the
// rules written out in full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  compareUtf8,
  isOwnName,
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  pathDepth,
  pathProblem,
} from '../../src/fs/paths.ts';

/** The rules without shortcuts: whether a path is valid. */
function valid(path: string): boolean {
  if (path === '' || Buffer.byteLength(path) > MAX_PATH_BYTES) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about them
  if (/[\u0000-\u001f\u007f-\u009f]/.test(path) || path.includes('\\')) return false;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return false;
  if (path.normalize('NFC') !== path || path.includes('\uFFFD')) return false;
  const parts = path.split('/');
  if (parts[0]!.toLowerCase() === '.resonate') return false;
  return parts.every(
    (p) =>
      p !== '' &&
      p !== '.' &&
      p !== '..' &&
      Buffer.byteLength(p) <= MAX_NAME_BYTES &&
      !p.toLowerCase().startsWith('.resonate-tmp-'),
  );
}

const piece = fc.oneof(
  fc.constantFrom('a', 'B', '.', '..', '/', '\\', ':', ' ', '\u0000', '\u001f', '\u007f', '\u0085'),
  fc.constantFrom('.resonate', '.RESONATE', '.resonate-tmp-x', 'é', 'e\u0301', '\uFFFD', '日本', '💾'),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('x'.repeat(MAX_NAME_BYTES), 'é'.repeat(128), 'y'.repeat(MAX_PATH_BYTES)),
);
const arbPath = fc.array(piece, { maxLength: 8 }).map((xs) => xs.join(''));

test('pathProblem agrees with the rules written out in full', () => {
  fc.assert(
    fc.property(arbPath, (p) => {
      assert.equal(pathProblem(p) === null, valid(p), JSON.stringify(p.slice(0, 80)));
    }),
    { numRuns: 3000 },
  );
});

test('pathProblem names the broken rule', () => {
  const cases: [unknown, string | null][] = [
    ['a/b.txt', null],
    ['dir/é', null],
    [42, 'not a string'],
    ['', 'empty'],
    ['a\u0000b', 'control character'],
    ['a\u0085', 'control character'],
    ['a\\b', 'backslash'],
    ['/etc/passwd', 'absolute'],
    ['C:x', 'drive letter'],
    ['e\u0301', 'not Unicode NFC'],
    ['a\uFFFD', 'invalid UTF-8'],
    ['a//b', 'empty component'],
    ['a/../b', '".." component'],
    [`a/${'x'.repeat(MAX_NAME_BYTES + 1)}`, `name longer than ${MAX_NAME_BYTES} bytes`],
    [`${'é'.repeat(128)}`, `name longer than ${MAX_NAME_BYTES} bytes`],
    ['y/'.repeat(MAX_PATH_BYTES / 2 + 1), `longer than ${MAX_PATH_BYTES} bytes`],
    ['a/.Resonate-tmp-1', 'reserved temp-file name'],
    ['.resonate/log', 'reserved state folder'],
  ];
  for (const [p, want] of cases) assert.equal(pathProblem(p), want, JSON.stringify(p).slice(0, 60));
});

test('isOwnName agrees with its rule written out in full', () => {
  const own = (path: string) => {
    const parts = path.split('/');
    return (
      parts[0]!.toLowerCase() === '.resonate' ||
      parts.some((p) => p.toLowerCase().startsWith('.resonate-tmp-'))
    );
  };
  fc.assert(
    fc.property(arbPath, (p) => {
      assert.equal(isOwnName(p), own(p), JSON.stringify(p.slice(0, 80)));
    }),
    { numRuns: 3000 },
  );
});

test('isOwnName: the state folder and temp files at any depth, in any case', () => {
  assert.equal(isOwnName('.resonate'), true);
  assert.equal(isOwnName('.ReSoNaTe/x'), true);
  assert.equal(isOwnName('a/b/.resonate-tmp-abc'), true);
  assert.equal(isOwnName('a/.resonate'), false);
  assert.equal(isOwnName('a/b.txt'), false);
});

test('pathDepth counts components as a split would ("" is the root: 0)', () => {
  assert.equal(pathDepth(''), 0);
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z.]{1,4}$/), { minLength: 1, maxLength: 6 }), (parts) => {
      const p = parts.join('/');
      assert.equal(pathDepth(p), p.split('/').length);
    }),
  );
});

test('compareUtf8 orders as the UTF-8 bytes do, surrogates and lone surrogates included', () => {
  const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  // Where UTF-16 order and byte order disagree: U+E000..U+FFFF sort below a surrogate pair in
  // UTF-16 but above it in UTF-8; a lone surrogate encodes as U+FFFD.
  const unit = fc.oneof(
    fc.constantFrom(
      'a',
      'b',
      '/',
      'é',
      '\uE000',
      '\uFFFD',
      '\uFFFF',
      '💾',
      '😀',
      '\uD83D',
      '\uDE00',
      '\uD800',
    ),
    fc.string({ unit: 'binary', maxLength: 2 }),
  );
  const str = fc.array(unit, { maxLength: 6 }).map((p) => p.join(''));
  fc.assert(
    fc.property(str, str, (a, b) => {
      assert.equal(compareUtf8(a, b), bytes(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      assert.equal(compareUtf8(b, a), bytes(b, a));
      assert.equal(compareUtf8(a, a), 0);
    }),
    { numRuns: 5000 },
  );
  assert.equal(compareUtf8('\uFFFF', '💾'), -1, 'a BMP character sorts below a supplementary one');
  assert.equal(compareUtf8('ab', 'a'), 1);
});
