// What the reconciler does with each kind of failed action (node/failure-rules.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FsError } from '../../src/fs/types.ts';
import { ContentUnavailableError } from '../../src/node/content.ts';
import { LocalChangeError } from '../../src/node/disk-steps.ts';
import {
  actionHead,
  actionPath,
  FirstSeen,
  failureOutcome,
  sourcesOf,
} from '../../src/node/failure-rules.ts';
import type { Action } from '../../src/node/plan.ts';
import { EntryType, type FileEntry } from '../../src/proto/types.ts';

const entry = (headPath: string): FileEntry => ({
  type: EntryType.File,
  size: 0,
  mtimeMs: 0,
  ino: 1,
  mode: 0o644,
  ctimeMs: 0,
  content: null,
  link: '',
  headPath,
  version: null,
});

test('a local change under the action waits for the detector, on both paths', () => {
  assert.deepEqual(failureOutcome(new LocalChangeError('d'), 'd/f', true), {
    kind: 'mismatch',
    paths: ['d/f', 'd'],
  });
});

test('content no peer has waits quietly; ordering errors get one more round, then retries', () => {
  assert.deepEqual(failureOutcome(new ContentUnavailableError('f'), 'f', true), { kind: 'wait' });
  const parent = Object.assign(new Error('d is not a folder'), { code: 'ERR_PARENT' }); // disk-steps' ensureParent
  const ordering = [
    ...(['ERR_NOT_FOUND', 'ERR_EXISTS', 'ERR_NOT_EMPTY'] as const).map((c) => new FsError(c, 'f', 'x')),
    parent,
  ];
  for (const err of ordering) {
    const code = err.code;
    assert.deepEqual(failureOutcome(err, 'f', true), { kind: 'again' }, code);
    assert.equal(failureOutcome(err, 'f', false).kind, 'retry', code);
  }
  const full = failureOutcome(new FsError('ERR_NO_SPACE', 'f', 'no space left on device'), 'f', true);
  assert.equal(full.kind, 'retry');
  assert.match(full.kind === 'retry' ? full.error : '', /no space left/);
  assert.deepEqual(failureOutcome('odd', 'f', true), { kind: 'retry', error: 'odd' });
});

test("a failed move names its target and replans its sources, a folder's children too", () => {
  const write: Action = { kind: 'write', path: 'a', headPath: 'a', version: null!, expect: null };
  assert.equal(actionPath(write), 'a');
  assert.equal(actionHead(write), 'a');
  assert.deepEqual(sourcesOf(write), []);
  const rm: Action = { kind: 'remove', path: 'r', expect: entry('r-head') };
  assert.equal(actionHead(rm), 'r-head');
  const moveDir: Action = {
    kind: 'moveDir',
    from: 'x',
    to: 'y',
    headPath: 'y',
    version: null,
    expect: entry('x'),
    children: [{ from: 'x/1', to: 'y/1', headPath: 'y/1', version: null, expect: entry('x/1') }],
  };
  assert.equal(actionPath(moveDir), 'y');
  assert.deepEqual(sourcesOf(moveDir), ['x', 'y/1', 'x/1']);
});

test('FirstSeen tells a key the first time only, and starts over past its bound', () => {
  const s = new FirstSeen(2);
  assert.equal(s.first('a'), true);
  assert.equal(s.first('a'), false);
  assert.equal(s.first('b'), true);
  assert.equal(s.first('c'), true, 'bound reached: forgotten, then remembered anew');
  assert.equal(s.first('a'), true);
});
