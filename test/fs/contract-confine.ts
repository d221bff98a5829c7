// Contract cases: hostile paths and symlinks. Every operation must refuse with
// ERR_PATH_UNSAFE (carrying the path) and nothing outside the folder may change.
import assert from 'node:assert/strict';
import { TEMP_PREFIX } from '../../src/fs/paths.ts';
import type { FileSystem } from '../../src/fs/types.ts';
import { type Case, escapeUntouched, expectCode, put } from './contract.ts';

/** Every operation of the interface, aimed at `p` (and `q` where there are two). */
function attacks(fs: FileSystem, p: string, q = 'plain'): [string, () => Promise<unknown>][] {
  return [
    ['lstat', () => fs.lstat(p)],
    ['readdir', () => fs.readdir(p)],
    ['readlink', () => fs.readlink(p)],
    ['openRead', () => fs.openRead(p)],
    ['createTemp', () => fs.createTemp(p)],
    ['mkdir', () => fs.mkdir(p)],
    ['mkdir(mode)', () => fs.mkdir(p, 0o777)],
    ['rmdir', () => fs.rmdir(p)],
    ['unlink', () => fs.unlink(p)],
    ['rename from', () => fs.rename(p, q)],
    ['rename to', () => fs.rename(q, p)],
    ['symlink', () => fs.symlink('/etc/passwd', p)],
    ['chmod', () => fs.chmod(p, 0o777)],
    ['utimes', () => fs.utimes(p, 1)],
    ['fsyncDir', () => fs.fsyncDir(p)],
  ];
}

async function allRefused(fs: FileSystem, p: string): Promise<void> {
  for (const [op, run] of attacks(fs, p)) {
    await assert.rejects(run(), (err: { code?: string; path?: string }) => {
      assert.equal(err.code, 'ERR_PATH_UNSAFE', `${op}(${JSON.stringify(p)}) gave ${String(err)}`);
      assert.equal(err.path, p, `${op} error path`);
      return true;
    });
  }
}

const BAD_PATHS = [
  '',
  '..',
  '../x',
  'a/../../x',
  'a/./b',
  'a//b',
  '/etc/passwd',
  'C:/x',
  'a\\..\\b',
  'a\0b',
  'x\n',
  'a/',
  '.resonate',
  '.resonate/db',
  `${TEMP_PREFIX}a/b`,
  'e\u0301', // not NFC
];

export const confineCases: Case[] = [
  [
    'malformed, absolute, escaping and reserved paths are refused by every operation',
    async ({ fs }) => {
      await put(fs, 'plain', 'p');
      for (const p of BAD_PATHS) {
        if (p === '') {
          // '' is the root: only lstat/readdir/fsyncDir accept it
          for (const [op, run] of attacks(fs, p)) {
            if (['lstat', 'readdir', 'fsyncDir'].includes(op)) await run();
            else await expectCode(run(), 'ERR_PATH_UNSAFE', p);
          }
          continue;
        }
        await allRefused(fs, p);
      }
    },
  ],
  [
    'a symlinked ancestor is refused by every operation, outside untouched',
    async (s) => {
      const { fs, out } = s;
      await put(fs, 'plain', 'p');
      await out.symlink(out.escape, 'evil');
      await allRefused(fs, 'evil/passwd');
      await allRefused(fs, 'evil/new/deeper');
      await escapeUntouched(s);
    },
  ],
  [
    'a symlink planted by another process after a successful write is not followed',
    async (s) => {
      const { fs, out } = s;
      await fs.mkdir('a/b');
      await put(fs, 'a/b/f', 'first');
      await put(fs, 'a/g', 'first');
      assert.equal((await fs.lstat('a/b/f'))?.kind, 'file');
      // the other process swaps a directory we just used for a symlink out of the folder
      await out.rmrf('a/b');
      await out.symlink(out.escape, 'a/b');
      await expectCode(put(fs, 'a/b/passwd', 'owned'), 'ERR_PATH_UNSAFE', 'a/b/passwd');
      await expectCode(fs.lstat('a/b/passwd'), 'ERR_PATH_UNSAFE', 'a/b/passwd');
      await expectCode(fs.unlink('a/b/passwd'), 'ERR_PATH_UNSAFE', 'a/b/passwd');
      await expectCode(fs.mkdir('a/b/x'), 'ERR_PATH_UNSAFE', 'a/b/x');
      // and the same one level higher: the top directory itself replaced
      await out.mv('a', 'a-moved');
      await out.symlink(out.escape, 'a');
      await expectCode(put(fs, 'a/g', 'owned'), 'ERR_PATH_UNSAFE', 'a/g');
      await expectCode(fs.rename('plain-missing', 'a/passwd'), 'ERR_PATH_UNSAFE', 'a/passwd');
      await escapeUntouched(s);
      assert.equal(await out.readFile('a-moved/g'), 'first');
    },
  ],
  [
    'a symlink to a directory inside the folder is refused as an ancestor too',
    async ({ fs, out }) => {
      await fs.mkdir('real');
      await out.symlink('real', 'alias');
      await allRefused(fs, 'alias/f');
      assert.deepEqual(await fs.readdir('real'), []);
    },
  ],
  [
    'a final symlink is operated on itself, never on what it points to',
    async (s) => {
      const { fs, out } = s;
      await out.symlink(`${s.out.escape}/passwd`, 'pw');
      await expectCode(fs.openRead('pw'), 'ERR_PATH_UNSAFE', 'pw');
      await expectCode(fs.chmod('pw', 0o777), 'ERR_PATH_UNSAFE', 'pw');
      await expectCode(fs.readdir('pw'), 'ERR_PATH_UNSAFE', 'pw');
      await fs.utimes('pw', 1_000);
      const t = await fs.createTemp('pw');
      await t.write(Buffer.from('replaced'), 0);
      await t.commit('pw', { mode: 0o644, mtimeMs: 1, expect: await fs.lstat('pw') });
      assert.equal((await fs.lstat('pw'))?.kind, 'file'); // the link was replaced, not written through
      await escapeUntouched(s);
      await out.symlink(out.escape, 'dirlink');
      await expectCode(fs.rmdir('dirlink'), 'ERR_NOT_FOUND', 'dirlink');
      await fs.unlink('dirlink');
      await escapeUntouched(s);
    },
  ],
];
