// Schedules that `npm run soak` once found failing, replayed with every universal check
// (convergence, no lost write, quorum safety, termination). Each names the bug it caught.
import { test } from 'node:test';
import { runCase } from './check.ts';
import type { Action } from './schedule.ts';

// `todo`: found and not yet fixed; it runs, and its failure is reported without failing the suite.
const cases: { nodes: number; seed?: number; bug: string; todo?: string; actions: Action[] }[] = [
  {
    nodes: 3,
    bug: 'a deletion in its grace period made the reconciler replan in a busy loop',
    actions: [
      { t: 'write', k: 0, path: 'e/z' },
      { t: 'run' },
      { t: 'write', k: 0, path: 'e/z' },
      { t: 'rm', k: 1, path: 'e/z' },
      { t: 'crash', k: 0 },
    ],
  },
  {
    nodes: 3,
    bug: 'a folder made implicitly kept the default mode, not its own',
    actions: [
      { t: 'write', k: 2, path: 'd/y' },
      { t: 'mv', k: 2, from: 'd', to: 'a' },
      { t: 'chmod', k: 2, path: 'a', exec: false },
      { t: 'write', k: 0, path: 'a' },
    ],
  },
  {
    nodes: 5,
    bug: 'a folder the user had moved away was made again for a remote file',
    actions: [
      { t: 'write', k: 0, path: 'd/y' },
      { t: 'run' },
      { t: 'mv', k: 1, from: 'd', to: 'e' },
      { t: 'crash', k: 0 },
      { t: 'write', k: 0, path: 'd/f/w' },
    ],
  },
  {
    nodes: 3,
    bug: 'a folder kept for unrecorded content was replanned in a loop',
    actions: [
      { t: 'mv', k: 0, from: 'a', to: 'd/y' },
      { t: 'run' },
      { t: 'mv', k: 0, from: 'd', to: 'a' },
      { t: 'crash', k: 0 },
      { t: 'write', k: 2, path: 'd/f/w' },
    ],
  },
  {
    nodes: 5,
    bug: 'a folder move that found the disk changed never planned its children again',
    actions: [
      { t: 'write', k: 0, path: 'd/f/w' },
      { t: 'run' },
      { t: 'crash', k: 4 },
      { t: 'mv', k: 4, from: 'd', to: 'e' },
      { t: 'mv', k: 0, from: 'a', to: 'e/z' },
      { t: 'heal' },
    ],
  },
  {
    nodes: 5,
    bug: 'remote files were written into a new folder the user made under an old name',
    actions: [
      { t: 'write', k: 0, path: 'd/f/w' },
      { t: 'partition', cut: [0, 4] },
      { t: 'write', k: 1, path: 'd/y' },
      { t: 'run' },
      { t: 'mv', k: 2, from: 'd', to: 'a' },
      { t: 'mv', k: 2, from: 'd/f', to: 'd/y' },
      { t: 'write', k: 0, path: 'a' },
    ],
  },
  {
    nodes: 3,
    bug: 'a folder move carried an unrecorded deletion inside it to the new name in the index',
    actions: [
      { t: 'write', k: 0, path: 'e/z' },
      { t: 'run' },
      { t: 'mv', k: 1, from: 'e', to: 'd' },
      { t: 'rm', k: 0, path: 'e/z' },
    ],
  },
  {
    nodes: 5,
    bug: 'the same, with the file moved inside the folder before it was deleted',
    actions: [
      { t: 'write', k: 0, path: 'd/f/w' },
      { t: 'run' },
      { t: 'mv', k: 0, from: 'd', to: 'g' },
      { t: 'mv', k: 2, from: 'd/f/w', to: 'd/x' },
      { t: 'rm', k: 2, path: 'd/x' },
      { t: 'mv', k: 0, from: 'a', to: 'a' },
    ],
  },
  {
    nodes: 2,
    bug: 'a folder’s permissions changed by the user were not synced',
    actions: [
      { t: 'write', k: 1, path: 'd/x' },
      { t: 'mv', k: 1, from: 'd', to: 'e/z' },
      { t: 'run' },
      { t: 'chmod', k: 0, path: 'e/z', exec: false },
      { t: 'heal' },
    ],
  },
  {
    nodes: 3,
    seed: 483161,
    bug: 'a file moved over a path dropped that path’s conflict copy (the moved history covered it)',
    actions: [
      { t: 'write', k: 0, path: 'd/y' },
      { t: 'write', k: 1, path: 'd/y' },
      { t: 'write', k: 0, path: 'd/f/w' },
      { t: 'run' },
      { t: 'mv', k: 0, from: 'd/f/w', to: 'd/y' },
      { t: 'crash', k: 0 },
    ],
  },
  {
    nodes: 3,
    bug: 'a folder moved and then chmodded kept its old permissions on the peers',
    actions: [
      { t: 'write', k: 0, path: 'e/z' },
      { t: 'run' },
      { t: 'mv', k: 1, from: 'e', to: 'b' },
      { t: 'chmod', k: 1, path: 'b', exec: false },
    ],
  },
  {
    nodes: 3,
    bug: 'a folder rename found by the scan carried along a file deleted before the move',
    actions: [
      { t: 'write', k: 0, path: 'e/z' },
      { t: 'run' },
      { t: 'rm', k: 0, path: 'e/z' },
      { t: 'mv', k: 0, from: 'e', to: 'a' },
      { t: 'crash', k: 0 },
    ],
  },
  {
    nodes: 2,
    bug: 'a folder whose synced entry could not move out yet (wrong order) stayed behind empty',
    actions: [
      { t: 'write', k: 0, path: 'e/z' },
      { t: 'write', k: 0, path: 'd/x' },
      { t: 'run' },
      { t: 'rmdir', k: 1, path: 'd' },
      { t: 'mv', k: 1, from: 'e', to: 'd/x' },
      { t: 'chmod', k: 0, path: 'a', exec: false },
    ],
  },
  {
    nodes: 3,
    bug: 'a file deleted just before a remote folder rename moved its folder stayed indexed under the new name',
    actions: [
      { t: 'write', k: 0, path: 'd/y' },
      { t: 'write', k: 2, path: 'b' },
      { t: 'partition', cut: [2] },
      { t: 'run' },
      { t: 'mv', k: 0, from: 'd', to: 'b' },
      { t: 'rm', k: 1, path: 'd/y' },
    ],
  },
  {
    nodes: 3,
    // Soak seed 536165399: the user's `mv d e` then `mkdir -p d/f` (a failed mv into it);
    // the remote d/f/w went into the new d/f, the recorded rename carried it to e/f/w in the
    // index, and its deletion there left d/f/w on disk with its head deleted.
    bug: 'a remote file was written into a new folder made where the user had just moved one away, before either was recorded',
    actions: [
      { t: 'crash', k: 2 },
      { t: 'write', k: 2, path: 'd/f/w' },
      { t: 'write', k: 0, path: 'd/x' },
      { t: 'run' },
      { t: 'mv', k: 1, from: 'd', to: 'e' },
      { t: 'mv', k: 1, from: 'a', to: 'd/f/w' },
      { t: 'write', k: 0, path: 'a' },
    ],
  },
];

for (const c of cases) {
  test(`${c.nodes} nodes: ${c.bug}`, { todo: c.todo }, async () => {
    await runCase(c.nodes, c.seed ?? 0, c.actions, true);
  });
}
