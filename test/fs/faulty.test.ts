// FaultyFs: each fault kind fires as configured, errors carry the path and an errno-like
// cause, and the RESONATE_FAULTS syntax parses (and refuses mistakes) as documented.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errnoOf } from '../../src/fs/disk-errors.ts';
import { FaultyFs, fromEnv } from '../../src/fs/faulty.ts';
import { makeMemFs, seededRandom } from '../sim/memfs-subject.ts';
import { expectCode, put, readAll } from './contract.ts';

function setup(spec: string, random?: (n: number) => Uint8Array) {
  const { fs: inner } = makeMemFs();
  return { inner, fs: new FaultyFs(inner, fromEnv(spec), random) };
}

test('write:ENOSPC:times=2 fails the first two writes, with the target path', async () => {
  const { fs } = setup('write:ENOSPC:times=2');
  const t = await fs.createTemp('big');
  await expectCode(t.write(Buffer.from('a'), 0), 'ERR_NO_SPACE', 'big');
  await assert.rejects(
    t.write(Buffer.from('a'), 0),
    (e: { cause?: unknown }) => errnoOf(e.cause) === 'ENOSPC',
  );
  await t.write(Buffer.from('abc'), 0);
  await t.commit('big', { mode: 0o644, mtimeMs: 1 });
  assert.equal(await readAll(fs, 'big'), 'abc');
  assert.deepEqual(fs.injected, [
    { op: 'write', path: 'big', error: 'ENOSPC' },
    { op: 'write', path: 'big', error: 'ENOSPC' },
  ]);
});

test('after=N lets the first N matching calls through', async () => {
  const { fs } = setup('mkdir:EIO:after=2:times=1');
  await fs.mkdir('a');
  await fs.mkdir('b');
  await expectCode(fs.mkdir('c'), 'ERR_IO', 'c');
  await fs.mkdir('d');
});

test('commit:EIO leaves the target untouched and removes the temp file', async () => {
  const { fs, inner } = setup('commit:EIO:path=^f$');
  const old = await put(inner, 'f', 'old');
  const t = await fs.createTemp('f');
  await t.write(Buffer.from('new'), 0);
  await expectCode(t.commit('f', { mode: 0o644, mtimeMs: 1, expect: old }), 'ERR_IO', 'f');
  assert.equal(await readAll(inner, 'f'), 'old');
  assert.deepEqual(
    (await inner.readdir('')).map((e) => e.name),
    ['f'],
  );
});

test('openRead:VANISH: lstat still reports the file, opening it says not found', async () => {
  const { fs, inner } = setup('openRead:VANISH:path=^big');
  await put(inner, 'big.iso', 'data');
  await put(inner, 'small', 'data');
  assert.equal((await fs.lstat('big.iso'))?.kind, 'file');
  await expectCode(fs.openRead('big.iso'), 'ERR_NOT_FOUND', 'big.iso');
  assert.equal(await readAll(fs, 'small'), 'data');
});

test('lstat:VANISH returns null; read:EACCES fails reads of an open handle', async () => {
  const { fs, inner } = setup('lstat:VANISH:times=1;read:EACCES:path=secret');
  await put(inner, 'secret', 'x');
  assert.equal(await fs.lstat('secret'), null);
  assert.equal((await fs.lstat('secret'))?.kind, 'file');
  const h = await fs.openRead('secret');
  await expectCode(h.read(new Uint8Array(4), 0, 4, 0), 'ERR_ACCESS', 'secret');
  await h.close();
});

test('rename rules match either path; "*" matches every operation', async () => {
  const { fs, inner } = setup('rename:EACCES:path=^dst');
  await put(inner, 'src', 'x');
  await expectCode(fs.rename('src', 'dst'), 'ERR_ACCESS');
  await fs.rename('src', 'other');
  const all = setup('*:EIO:path=^x');
  await expectCode(all.fs.mkdir('x'), 'ERR_IO', 'x');
  await expectCode(all.fs.readdir('x/y'), 'ERR_IO', 'x/y');
  await expectCode(all.fs.symlink('t', 'xl'), 'ERR_IO', 'xl');
  await all.fs.mkdir('y');
});

test('probability needs an injected random source and is then deterministic', async () => {
  const { fs: inner } = makeMemFs();
  assert.throws(() => new FaultyFs(inner, fromEnv('lstat:EIO:probability=0.5')), /random/);
  const run = async () => {
    const fs = new FaultyFs(inner, fromEnv('lstat:EIO:probability=0.5'), seededRandom(42));
    const out: boolean[] = [];
    for (let i = 0; i < 40; i++)
      out.push(
        await fs.lstat('f').then(
          () => true,
          () => false,
        ),
      );
    return out;
  };
  const a = await run();
  assert.deepEqual(a, await run());
  assert.ok(a.includes(true) && a.includes(false));
  const never = new FaultyFs(inner, fromEnv('lstat:EIO:p=0'), seededRandom(1));
  for (let i = 0; i < 20; i++) await never.lstat('f');
});

test('rules can be added and cleared at run time', async () => {
  const { fs } = setup('');
  await fs.mkdir('a');
  fs.add({ op: 'mkdir', error: 'ENOSPC' });
  await expectCode(fs.mkdir('b'), 'ERR_NO_SPACE', 'b');
  fs.clear();
  await fs.mkdir('b');
});

test('fromEnv parses the documented syntax', () => {
  assert.deepEqual(fromEnv(''), []);
  assert.deepEqual(fromEnv(' ; '), []);
  const rules = fromEnv('write:ENOSPC:times=3;openRead:VANISH:path=^big; commit:EIO:after=1:p=0.25 ');
  assert.equal(rules.length, 3);
  assert.deepEqual(rules[0], { op: 'write', error: 'ENOSPC', times: 3 });
  assert.equal(rules[1]?.op, 'openRead');
  assert.equal(rules[1]?.error, 'VANISH');
  assert.equal(rules[1]?.path?.source, '^big');
  assert.deepEqual(rules[2], { op: 'commit', error: 'EIO', after: 1, probability: 0.25 });
  assert.equal(fromEnv('lstat:EIO:path=^a:b$')[0]?.path?.source, '^a:b$');
});

test('fromEnv refuses mistakes with a clear message', () => {
  for (const [spec, why] of [
    ['wrte:EIO', /unknown operation "wrte"/],
    ['write:ENOENT', /unknown error "ENOENT"/],
    ['write:EIO:times=x', /times must be a whole number/],
    ['write:EIO:after=-1', /after must be a whole number/],
    ['write:EIO:probability=2', /probability/],
    ['write:EIO:colour=red', /unknown option "colour"/],
    ['write:EIO:path=(', /invalid path regex/],
    ['write', /unknown error ""/],
  ] as const) {
    assert.throws(
      () => fromEnv(spec),
      (err: Error) => why.test(err.message) && err.message.includes('RESONATE_FAULTS'),
    );
  }
});

test('FaultyFs.fromEnv wraps only when there is something to inject', () => {
  const { fs: inner } = makeMemFs();
  assert.equal(FaultyFs.fromEnv(inner, undefined), inner);
  assert.equal(FaultyFs.fromEnv(inner, ''), inner);
  const wrapped = FaultyFs.fromEnv(inner, 'write:EIO');
  assert.ok(wrapped instanceof FaultyFs);
  assert.equal(wrapped.root, inner.root);
});
