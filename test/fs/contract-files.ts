// Contract cases: temp files, atomic commit, expect checks, reads.
import assert from 'node:assert/strict';
import { TEMP_PREFIX } from '../../src/fs/paths.ts';
import { removeStaleTemps } from '../../src/fs/stale-temps.ts';
import { type Case, expectCode, put, readAll } from './contract.ts';

const names = async (s: { fs: { readdir(p: string): Promise<{ name: string }[]> } }, dir = '') =>
  (await s.fs.readdir(dir)).map((e) => e.name);

export const fileCases: Case[] = [
  [
    'partial data exists only under the temp name until commit',
    async ({ fs }) => {
      await fs.mkdir('d');
      const t = await fs.createTemp('d/f.txt');
      assert.ok(t.path.startsWith(`d/${TEMP_PREFIX}`), t.path);
      await t.write(Buffer.from('hello '), 0);
      assert.equal(await fs.lstat('d/f.txt'), null);
      assert.deepEqual(await names({ fs }, 'd'), [t.path.slice(2)]);
      assert.equal(await readAll(fs, t.path), 'hello ');
      assert.equal((await fs.lstat(t.path))?.mode, 0o600);
      await t.write(Buffer.from('world'), 6);
      assert.equal(await fs.lstat('d/f.txt'), null);
      const st = await t.commit('d/f.txt', { mode: 0o640, mtimeMs: 1_700_000_000_123, expect: null });
      assert.deepEqual(await names({ fs }, 'd'), ['f.txt']);
      assert.equal(await readAll(fs, 'd/f.txt'), 'hello world');
      assert.equal(st.kind, 'file');
      assert.equal(st.size, 11);
      assert.equal(st.mode, 0o640);
      assert.equal(st.mtimeMs, 1_700_000_000_123);
      assert.deepEqual(await fs.lstat('d/f.txt'), st);
    },
  ],
  [
    'writes at positions leave zero-filled holes',
    async ({ fs }) => {
      const t = await fs.createTemp('h');
      await t.write(Buffer.from('b'), 3);
      await t.write(Buffer.from('a'), 0);
      await t.commit('h', { mode: 0o644, mtimeMs: 1_000 });
      assert.equal(await readAll(fs, 'h'), 'a\0\0b');
    },
  ],
  [
    'commit replaces a file whose stat still matches; open readers keep the old content',
    async ({ fs }) => {
      const old = await put(fs, 'f', 'old');
      const reader = await fs.openRead('f');
      const t = await fs.createTemp('f');
      await t.write(Buffer.from('new!'), 0);
      const st = await t.commit('f', { mode: 0o600, mtimeMs: 2_000, expect: old });
      assert.notEqual(st.ino, old.ino);
      assert.equal(await readAll(fs, 'f'), 'new!');
      const buf = new Uint8Array(10);
      assert.equal(Buffer.from(buf.subarray(0, await reader.read(buf, 0, 10, 0))).toString(), 'old');
      await reader.close();
    },
  ],
  [
    'a target changed behind our back is left alone and the temp file removed',
    async ({ fs, out }) => {
      const seen = await put(fs, 'f', 'v1');
      await out.writeFile('f', 'user edit');
      const t = await fs.createTemp('f');
      await t.write(Buffer.from('remote'), 0);
      await expectCode(t.commit('f', { mode: 0o644, mtimeMs: 1, expect: seen }), 'ERR_TARGET_CHANGED', 'f');
      assert.equal(await out.readFile('f'), 'user edit');
      assert.deepEqual(await names({ fs }), ['f']);
      await t.abort(); // still idempotent after a failed commit
    },
  ],
  [
    'expect null refuses an existing target; expect of a removed target refuses too',
    async ({ fs, out }) => {
      await out.writeFile('x', 'mine');
      const t = await fs.createTemp('x');
      await expectCode(t.commit('x', { mode: 0o644, mtimeMs: 1, expect: null }), 'ERR_TARGET_CHANGED', 'x');
      assert.equal(await out.readFile('x'), 'mine');
      const seen = await fs.lstat('x');
      await out.rmrf('x');
      const t2 = await fs.createTemp('x');
      await expectCode(t2.commit('x', { mode: 0o644, mtimeMs: 1, expect: seen }), 'ERR_TARGET_CHANGED');
      assert.equal(await fs.lstat('x'), null);
      assert.deepEqual(await names({ fs }), []);
    },
  ],
  [
    'abort removes the temp file, is idempotent, and ends the temp file',
    async ({ fs }) => {
      const t = await fs.createTemp('a');
      await t.write(Buffer.from('x'), 0);
      await t.abort();
      await t.abort();
      assert.deepEqual(await names({ fs }), []);
      await expectCode(t.write(Buffer.from('y'), 0), 'ERR_IO');
      await expectCode(t.commit('a', { mode: 0o644, mtimeMs: 1 }), 'ERR_IO');
      const t2 = await fs.createTemp('b');
      await t2.commit('b', { mode: 0o644, mtimeMs: 1 });
      await t2.abort(); // after commit: a no-op, the file stays
      assert.deepEqual(await names({ fs }), ['b']);
    },
  ],
  [
    'commit only into the temp file’s own folder, only to synced paths',
    async ({ fs }) => {
      await fs.mkdir('d');
      const t = await fs.createTemp('d/f');
      await expectCode(t.commit('f', { mode: 0o644, mtimeMs: 1 }), 'ERR_PATH_UNSAFE', 'f');
      await expectCode(t.commit('d/../f', { mode: 0o644, mtimeMs: 1 }), 'ERR_PATH_UNSAFE');
      await expectCode(t.commit(`d/${TEMP_PREFIX}x`, { mode: 0o644, mtimeMs: 1 }), 'ERR_PATH_UNSAFE');
      await t.abort();
      assert.deepEqual(await names({ fs }, 'd'), []);
    },
  ],
  [
    'special permission bits are masked off by default',
    async ({ fs }) => {
      assert.equal((await put(fs, 's', 'x', 0o4755)).mode, 0o755);
      await fs.chmod('s', 0o2777);
      assert.equal((await fs.lstat('s'))?.mode, 0o777);
    },
  ],
  [
    'openRead: missing, directory, symlink, FIFO',
    async ({ fs, out }) => {
      await expectCode(fs.openRead('nope'), 'ERR_NOT_FOUND', 'nope');
      await fs.mkdir('d');
      await expectCode(fs.openRead('d'), 'ERR_IO', 'd');
      await put(fs, 'real', 'data');
      await fs.symlink('real', 'ln');
      await expectCode(fs.openRead('ln'), 'ERR_PATH_UNSAFE', 'ln');
      await out.mkfifo('fifo');
      await expectCode(fs.openRead('fifo'), 'ERR_IO', 'fifo'); // and does not hang
      const h = await fs.openRead('real');
      assert.equal((await h.stat()).size, 4);
      await h.close();
      await h.close();
    },
  ],
  [
    'temp names are retried on collision and never clobber what is there',
    async (_s, make) => {
      const { fs, out } = await make({ random: (n) => new Uint8Array(n) }); // always the same name
      const name = `${TEMP_PREFIX}${'00'.repeat(8)}`;
      await out.symlink(out.escape, name); // a planted symlink at the name we will pick
      await expectCode(fs.createTemp('f'), 'ERR_EXISTS', 'f');
      await out.rmrf(name);
      const t = await fs.createTemp('f');
      await t.write(Buffer.from('one'), 0);
      await expectCode(fs.createTemp('g'), 'ERR_EXISTS', 'g');
      assert.equal(await readAll(fs, t.path), 'one');
      await t.commit('f', { mode: 0o644, mtimeMs: 1 });
    },
  ],
  [
    'removeStaleTemps deletes leftovers everywhere and keeps everything else',
    async ({ fs, out }) => {
      await fs.mkdir('a/b');
      await put(fs, 'a/b/keep', 'k');
      for (const p of ['', 'a/', 'a/b/']) await out.writeFile(`${p}${TEMP_PREFIX}dead`, 'partial');
      const live = await fs.createTemp('a/x');
      await live.abort();
      const removed = await removeStaleTemps(fs);
      assert.deepEqual(
        removed.sort(),
        [`${TEMP_PREFIX}dead`, `a/${TEMP_PREFIX}dead`, `a/b/${TEMP_PREFIX}dead`].sort(),
      );
      assert.deepEqual(await names({ fs }, 'a/b'), ['keep']);
      assert.deepEqual(await removeStaleTemps(fs), []);
    },
  ],
];
