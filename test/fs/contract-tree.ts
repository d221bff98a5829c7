// Contract cases: directories, listing, rename, unlink, symlinks, metadata, error codes.
import assert from 'node:assert/strict';
import { type Case, expectCode, put, readAll } from './contract.ts';

export const treeCases: Case[] = [
  [
    'lstat: root, missing, below a file, kinds',
    async ({ fs, out }) => {
      assert.equal((await fs.lstat(''))?.kind, 'dir');
      assert.equal(await fs.lstat('nope'), null);
      assert.equal(await fs.lstat('nope/deeper'), null);
      await put(fs, 'f', 'x');
      assert.equal(await fs.lstat('f/below'), null);
      assert.equal(await fs.lstat('f/below/deeper'), null);
      await fs.mkdir('d/e');
      assert.equal(await fs.lstat('d/e/nope/a/b'), null);
      assert.equal((await fs.lstat('d/e'))?.kind, 'dir');
      await fs.symlink('f', 'l');
      await out.mkfifo('p');
      assert.equal((await fs.lstat('f'))?.kind, 'file');
      assert.equal((await fs.lstat('l'))?.kind, 'link');
      assert.equal((await fs.lstat('p'))?.kind, 'other');
    },
  ],
  [
    'readdir lists names sorted with kinds, without following symlinks',
    async ({ fs, out }) => {
      await fs.mkdir('dir');
      await put(fs, 'b-file', 'x');
      await fs.symlink('dir', 'a-link');
      await out.mkfifo('c-fifo');
      assert.deepEqual(await fs.readdir(''), [
        { name: 'a-link', kind: 'link' },
        { name: 'b-file', kind: 'file' },
        { name: 'c-fifo', kind: 'other' },
        { name: 'dir', kind: 'dir' },
      ]);
      await expectCode(fs.readdir('a-link'), 'ERR_PATH_UNSAFE', 'a-link');
      await expectCode(fs.readdir('b-file'), 'ERR_NOT_FOUND', 'b-file');
      await expectCode(fs.readdir('missing'), 'ERR_NOT_FOUND', 'missing');
    },
  ],
  [
    'mkdir creates parents, applies the exact mode, refuses an existing final entry',
    async ({ fs }) => {
      await fs.mkdir('a/b/c', 0o750);
      assert.equal((await fs.lstat('a/b/c'))?.mode, 0o750);
      assert.equal((await fs.lstat('a/b'))?.kind, 'dir');
      await expectCode(fs.mkdir('a/b/c'), 'ERR_EXISTS', 'a/b/c');
      await fs.mkdir('a/b/d'); // existing parents are fine
      await put(fs, 'a/file', 'x');
      await expectCode(fs.mkdir('a/file/sub'), 'ERR_PATH_UNSAFE', 'a/file/sub');
      await expectCode(fs.mkdir('a/file'), 'ERR_EXISTS', 'a/file');
    },
  ],
  [
    'rmdir and unlink: codes for missing, non-empty, wrong kind',
    async ({ fs }) => {
      await fs.mkdir('d/e');
      await expectCode(fs.rmdir('d'), 'ERR_NOT_EMPTY', 'd');
      await expectCode(fs.rmdir('zz'), 'ERR_NOT_FOUND', 'zz');
      await expectCode(fs.unlink('zz'), 'ERR_NOT_FOUND', 'zz');
      await expectCode(fs.unlink('d'), 'ERR_IO', 'd');
      await fs.rmdir('d/e');
      await fs.rmdir('d');
      await put(fs, 'f', 'x');
      await expectCode(fs.rmdir('f'), 'ERR_NOT_FOUND', 'f');
      await fs.symlink('/etc', 'l');
      await fs.unlink('l'); // removes the link, never what it points at
      await fs.unlink('f');
      assert.deepEqual(await fs.readdir(''), []);
    },
  ],
  [
    'rename moves files and whole directories, keeping inode numbers',
    async ({ fs }) => {
      await fs.mkdir('src/sub');
      await put(fs, 'src/sub/f', 'deep');
      const dirIno = (await fs.lstat('src'))?.ino;
      const fileIno = (await fs.lstat('src/sub/f'))?.ino;
      await fs.rename('src', 'dst');
      assert.equal(await fs.lstat('src'), null);
      assert.equal((await fs.lstat('dst'))?.ino, dirIno);
      assert.equal((await fs.lstat('dst/sub/f'))?.ino, fileIno);
      assert.equal(await readAll(fs, 'dst/sub/f'), 'deep');
      await put(fs, 'other', 'o');
      await fs.rename('other', 'dst/sub/f'); // over a file
      assert.equal(await readAll(fs, 'dst/sub/f'), 'o');
      await fs.rename('dst/sub/f', 'dst/sub/f'); // same entry: nothing happens
      assert.equal(await readAll(fs, 'dst/sub/f'), 'o');
    },
  ],
  [
    'rename refuses a non-empty target directory, a missing source, a dir into itself',
    async ({ fs }) => {
      await fs.mkdir('a/x');
      await fs.mkdir('b');
      await put(fs, 'b/keep', 'k');
      await expectCode(fs.rename('a', 'b'), 'ERR_NOT_EMPTY', 'a');
      assert.equal(await readAll(fs, 'b/keep'), 'k');
      await expectCode(fs.rename('nope', 'n2'), 'ERR_NOT_FOUND', 'nope');
      await expectCode(fs.rename('a', 'a/x/y'), 'ERR_IO', 'a');
      await fs.mkdir('empty');
      await fs.rename('a', 'empty'); // over an empty directory is allowed
      assert.equal((await fs.lstat('empty/x'))?.kind, 'dir');
    },
  ],
  [
    'symlinks store their text verbatim and are never followed by chmod or utimes',
    async ({ fs }) => {
      await put(fs, 'target', 't', 0o644, 5_000);
      for (const [text, name] of [
        ['/etc/passwd', 'abs'],
        ['../../outside', 'up'],
        ['target', 'rel'],
      ]) {
        await fs.symlink(text as string, name as string);
        assert.equal(await fs.readlink(name as string), text);
      }
      await expectCode(fs.symlink('x', 'rel'), 'ERR_EXISTS', 'rel');
      await expectCode(fs.symlink('a\0b', 'nul'), 'ERR_PATH_UNSAFE', 'nul');
      await expectCode(fs.readlink('target'), 'ERR_IO', 'target');
      await expectCode(fs.chmod('rel', 0o600), 'ERR_PATH_UNSAFE', 'rel');
      await fs.utimes('rel', 9_000);
      assert.equal((await fs.lstat('rel'))?.mtimeMs, 9_000);
      const t = await fs.lstat('target');
      assert.equal(t?.mode, 0o644);
      assert.equal(t?.mtimeMs, 5_000);
    },
  ],
  [
    'chmod and utimes on files and directories; ctime moves, ino stays',
    async ({ fs }) => {
      const before = await put(fs, 'f', 'x');
      await fs.chmod('f', 0o600);
      await fs.utimes('f', 1_234_567_890_123);
      const after = await fs.lstat('f');
      assert.equal(after?.mode, 0o600);
      assert.equal(after?.mtimeMs, 1_234_567_890_123);
      assert.equal(after?.ino, before.ino);
      assert.ok((after?.ctimeMs ?? 0) >= before.ctimeMs);
      await fs.mkdir('d');
      await fs.chmod('d', 0o700);
      await fs.utimes('d', 42_000);
      assert.equal((await fs.lstat('d'))?.mode, 0o700);
      assert.equal((await fs.lstat('d'))?.mtimeMs, 42_000);
      await expectCode(fs.chmod('nope', 0o600), 'ERR_NOT_FOUND', 'nope');
      await expectCode(fs.utimes('nope', 1), 'ERR_NOT_FOUND', 'nope');
    },
  ],
  [
    'fsyncDir on the root and subfolders; missing or file operand is not found',
    async ({ fs }) => {
      await fs.mkdir('d');
      await fs.fsyncDir('');
      await fs.fsyncDir('d');
      await expectCode(fs.fsyncDir('nope'), 'ERR_NOT_FOUND', 'nope');
      await put(fs, 'f', 'x');
      await expectCode(fs.fsyncDir('f'), 'ERR_NOT_FOUND', 'f');
    },
  ],
  [
    'own temp paths are accepted where they must be, but are never synced names',
    async ({ fs }) => {
      const t = await fs.createTemp('f');
      assert.equal((await fs.lstat(t.path))?.kind, 'file');
      await fs.rename(t.path, 'renamed');
      await fs.unlink('renamed');
      await t.abort(); // its file is already gone: still fine
      await expectCode(fs.createTemp(t.path), 'ERR_PATH_UNSAFE', t.path);
      await expectCode(fs.mkdir(t.path), 'ERR_PATH_UNSAFE', t.path);
      await expectCode(fs.symlink('x', t.path), 'ERR_PATH_UNSAFE', t.path);
    },
  ],
];
