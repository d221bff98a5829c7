// Issue 4 end to end: clusters of 3 and 5 real daemons on loopback, every link through a
// proxy. A line A–B–C relays operations and membership through B; full meshes converge;
// losing a minority keeps the majority committing while the stopped nodes' offline edits
// survive their return; a node left alone reports minority, keeps recording uncommitted
// changes and loses nothing; under a partition the majority side's version wins and the
// minority's stays as a conflict copy. `resonate status` is checked at every step, as JSON
// and as a table, and with no daemon to answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cleanupHarness } from '../harness/cleanup.ts';
import { dumpOnFailure } from '../harness/daemon.ts';
import { seededBytes, writeBytes } from '../harness/files.ts';
import { freePort } from '../harness/ports.ts';
import { waitFor } from '../harness/wait.ts';
import { findLine, type Grid, type GridNode, startGrid, withGrid } from './cluster-lib/grid.ts';
import { checkNoDaemon, type Expect, type MemberState, settle, waitStatus } from './cluster-lib/status.ts';
import { stepper } from './cluster-lib/trace.ts';
import { allContents, copyNode, copyTimeProblem, type Shown, shownVersions } from './cluster-lib/versions.ts';
import { READY, SYNC_TIMEOUT, sha256, waitForContent, waitTreesEqual } from './lib/e2e.ts';

after(cleanupHarness);

const MINORITY = /minority: cannot reach a majority/;
const MAJORITY_AGAIN = /majority reachable again/;

const quorumOf = (n: number) => Math.floor(n / 2) + 1;

/** Expected member states as node `self` sees them: `up` connected, everyone else unreachable. */
function membersSeenBy(g: Grid, self: GridNode, up: readonly GridNode[]): Record<string, MemberState> {
  const out: Record<string, MemberState> = {};
  for (const m of g.nodes) out[m.id] = m === self ? 'self' : up.includes(m) ? 'connected' : 'unreachable';
  return out;
}

/** Every node of a healthy mesh: all connected, majority, nothing uncommitted, nobody behind. */
function healthy(g: Grid, node: GridNode): Expect {
  const n = g.nodes.length;
  return {
    size: n,
    quorum: quorumOf(n),
    majority: true,
    reachable: n,
    members: membersSeenBy(g, node, g.nodes),
    uncommitted: 0,
    caughtUp: true,
    idle: true,
  };
}

const dirs = (nodes: readonly GridNode[]) => nodes.map((x) => x.dir);

/** Wait until every node shows rel's versions the way check wants (check lists what is wrong). */
async function waitShown(g: Grid, rel: string, check: (s: Shown) => string[]): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => {
      const all = await Promise.all(
        g.nodes.map(async (x) => ({ x, bad: check(await shownVersions(x.dir, rel)) })),
      );
      last = all.flatMap(({ x, bad }) => bad.map((b) => `${x.id}: ${b}`));
      return last.length === 0;
    },
    {
      timeoutMs: SYNC_TIMEOUT,
      intervalMs: 100,
      message: `the versions of ${rel} on every node`,
      describe: () => last,
    },
  );
}

/**
 * Each node writes files of its own; all of them reach every node, every node's status
 * settles (HTTP), and node 0's is checked through the CLI in both forms.
 */
async function convergeFromEveryNode(g: Grid, tag: string): Promise<void> {
  const step = stepper(tag);
  step('start: wait until every node sees every other');
  await Promise.all(g.nodes.map((x) => waitStatus(x.port, healthy(g, x), `${x.id} linked (${tag})`)));
  step('every node writes');
  const expected = new Map<string, string>();
  await Promise.all(
    g.nodes.map(async (node, k) => {
      const big = seededBytes(200_000 + k * 1000, `${tag}-${node.id}`);
      await writeBytes(node.dir, `${tag}/${node.id}/notes.txt`, `written on ${node.id}\n`);
      await writeBytes(node.dir, `${tag}/${node.id}/data.bin`, big);
      expected.set(`${tag}/${node.id}/notes.txt`, sha256(`written on ${node.id}\n`));
      expected.set(`${tag}/${node.id}/data.bin`, sha256(big));
    }),
  );
  step('wait for convergence');
  const tree = await waitTreesEqual(dirs(g.nodes), { message: `${tag}: every node's files on every node` });
  for (const [rel, hash] of expected) assert.equal(tree.get(rel)?.sha256, hash, `${rel} on every node`);
  step('wait for statuses to settle');
  // Commits are known through gossip a little after the data arrives.
  await Promise.all(g.nodes.map((x) => waitStatus(x.port, healthy(g, x), `${x.id} settled (${tag})`)));
  step('status CLI');
  await settle(
    g.nodes[0]!.port,
    { ...healthy(g, g.nodes[0]!), files: expected.size, conflicts: 0 },
    `${g.nodes[0]!.id} settled (${tag})`,
  );
  step('done');
}

/**
 * Stop `down` (a minority): the others keep committing; the stopped nodes get offline
 * writes in their folders, come back, catch up, and their writes reach everyone.
 * noDaemon: also check `resonate status` on a stopped node's port (exit 1, one line).
 */
async function loseMinority(
  g: Grid,
  down: readonly GridNode[],
  tag: string,
  noDaemon: boolean,
): Promise<void> {
  const step = stepper(tag);
  const n = g.nodes.length;
  const live = g.nodes.filter((x) => !down.includes(x));
  const first = live[0]!;
  // A file every node holds (committed) that a stopped node will edit offline.
  const shared = `${tag}/shared.txt`;
  await writeBytes(first.dir, shared, 'shared, before the stop\n');
  await Promise.all(g.nodes.map((x) => waitForContent(x.dir, shared, 'shared, before the stop\n')));
  await Promise.all(g.nodes.map((x) => waitStatus(x.port, healthy(g, x), `${x.id} committed ${shared}`)));
  step(`stop ${down.map((x) => x.id).join(',')}`);
  assert.deepEqual(
    await g.stop(down.map((x) => x.index)),
    down.map(() => 0),
    'clean exit',
  );
  const degraded = (node: GridNode): Expect => ({
    size: n,
    quorum: quorumOf(n),
    majority: true,
    reachable: live.length,
    members: membersSeenBy(g, node, live),
  });
  step('status: no daemon on a stopped node; the live ones see the others gone');
  await Promise.all([
    noDaemon ? checkNoDaemon(down[0]!.port) : undefined,
    ...live.map((x) => waitStatus(x.port, degraded(x), `${x.id} without ${down.map((d) => d.id)}`)),
  ]);
  await settle(first.port, degraded(first), `${first.id} without ${down.map((d) => d.id)}`);

  // The majority keeps committing: a write on one live node reaches the others, and every
  // live node counts nothing uncommitted once their summaries went round.
  step('write on a live node');
  const rel = `${tag}/while-down-from-${first.id}.txt`;
  const text = `written on ${first.id} while ${down.map((x) => x.id).join(',')} were down\n`;
  await writeBytes(first.dir, rel, text);
  await Promise.all(live.map((x) => waitForContent(x.dir, rel, text)));
  step('wait for the commit');
  const committed = (x: GridNode): Expect => ({ ...degraded(x), uncommitted: 0, caughtUp: false });
  await Promise.all(live.map((x) => waitStatus(x.port, committed(x), `${x.id} committed ${rel}`)));
  const s = await settle(first.port, committed(first), `${first.id} committed ${rel}`);
  for (const m of s.members) {
    if (live.some((x) => x.id === m.id)) assert.equal(m.behind, 0, `${m.id} holds everything`);
    else assert.ok((m.behind ?? 1) > 0, `${m.id} (stopped) misses the new write: behind ${m.behind}`);
  }

  // Offline writes on the stopped nodes, made straight into their folders.
  step('offline writes, restart');
  const offline = new Map<string, string>();
  const edit = `edited in ${down[0]!.id}'s folder while it was stopped\n`;
  await writeBytes(down[0]!.dir, shared, edit);
  for (const x of down) {
    const r = `${tag}/offline-${x.id}/note.txt`;
    offline.set(r, `written into ${x.id}'s folder while it was stopped\n`);
    await writeBytes(x.dir, r, offline.get(r)!);
  }
  await g.restart(down.map((x) => x.index));
  step('catch up');
  await Promise.all(down.map((x) => waitForContent(x.dir, rel, text)));
  const tree = await waitTreesEqual(dirs(g.nodes), { message: `${tag}: stopped nodes caught up` });
  for (const [r, t] of offline)
    assert.equal(tree.get(r)?.sha256, sha256(t), `${r} (offline write) everywhere`);
  // Nobody else touched the shared file: the offline edit simply wins, no conflict.
  for (const x of g.nodes) {
    const shown = await shownVersions(x.dir, shared);
    assert.equal(shown.file, edit, `${x.id}: ${shared} holds ${down[0]!.id}'s offline edit`);
    assert.equal(shown.copies.size, 0, `${x.id}: no conflict copy of ${shared}`);
  }
  step('wait for statuses to settle');
  await Promise.all(g.nodes.map((x) => waitStatus(x.port, healthy(g, x), `${x.id} after ${tag} came back`)));
  step('status CLI');
  await settle(down[0]!.port, healthy(g, down[0]!), `${down[0]!.id} back`);
  step('done');
}

test('line A–B–C (--cluster lists all three): files pass through B both ways; A sees C via peers', () =>
  withGrid({ ids: ['A', 'B', 'C'], topology: 'line' }, async (g) => {
    const step = stepper('line');
    const [a, b, c] = g.nodes as [GridNode, GridNode, GridNode];
    const base = { size: 3, quorum: 2, majority: true, reachable: 3 };
    const seenByA: Expect = { ...base, members: { A: 'self', B: 'connected', C: 'via peers' } };
    const seenByB: Expect = { ...base, members: { A: 'connected', B: 'self', C: 'connected' } };
    const seenByC: Expect = { ...base, members: { A: 'via peers', B: 'connected', C: 'self' } };
    step('started; wait for membership');
    await Promise.all([
      waitStatus(a.port, seenByA, 'A in the line'),
      waitStatus(b.port, seenByB, 'B in the line'),
      waitStatus(c.port, seenByC, 'C in the line'),
    ]);
    await settle(a.port, seenByA, 'A in the line');

    step('write on both ends');
    // Contents travel as blocks fetched from a neighbour: C gets A's bytes from B.
    const bin = seededBytes(300_000, 'line-from-A');
    await writeBytes(a.dir, 'line/from-A.txt', 'written on A, read on C\n');
    await writeBytes(a.dir, 'line/from-A.bin', bin);
    await writeBytes(c.dir, 'line/deep/from-C.txt', 'written on C, read on A\n');
    await waitForContent(c.dir, 'line/from-A.txt', 'written on A, read on C\n');
    await waitForContent(c.dir, 'line/from-A.bin', bin);
    await waitForContent(a.dir, 'line/deep/from-C.txt', 'written on C, read on A\n');
    await waitTreesEqual(dirs(g.nodes));

    step('wait for statuses to settle');
    const settled = { uncommitted: 0, caughtUp: true, idle: true, files: 3, conflicts: 0 };
    await Promise.all([
      waitStatus(a.port, { ...seenByA, ...settled }, 'A settled'),
      waitStatus(b.port, { ...seenByB, ...settled }, 'B settled'),
      waitStatus(c.port, { ...seenByC, ...settled }, 'C settled'),
    ]);
    step('status CLI');
    const sa = await settle(a.port, { ...seenByA, ...settled }, 'A settled');
    const cOnA = sa.members.find((m) => m.id === 'C')!;
    assert.equal(cOnA.connected, false, 'A has no link to C');
    assert.equal(cOnA.reachable, true, 'C is reachable through B');
    assert.notEqual(cOnA.lastSeen, null, 'A heard of C lately');
    assert.equal(cOnA.address, `127.0.0.1:${c.port}`, "C's announced address");

    // Cut B–C: news of C stops reaching A, and after 3 gossip periods A counts C unreachable
    // (A and B are still a majority); after the heal C is back, via B.
    step('cut B–C');
    g.partition([[a.index, b.index], [c.index]]);
    const cutOff: Expect = {
      ...base,
      reachable: 2,
      members: { A: 'self', B: 'connected', C: 'unreachable' },
    };
    await waitStatus(a.port, cutOff, 'A after the B–C cut');
    await settle(a.port, cutOff, 'A after the B–C cut');
    step('heal B–C');
    g.heal();
    await waitStatus(a.port, { ...seenByA, ...settled }, 'A after the B–C heal');
    step('done');
  }));

describe('3 nodes, full mesh', () => {
  let g: Grid;
  before(async () => {
    g = await dumpOnFailure(() => startGrid({ ids: ['A', 'B', 'C'], topology: 'mesh' }));
  });
  after(() => g?.close());

  test('files from every node converge everywhere', () =>
    dumpOnFailure(() => convergeFromEveryNode(g, 'mesh3')));

  test('stop 1 of 3: the other two keep committing; its offline writes survive its return', () =>
    dumpOnFailure(() => loseMinority(g, [g.nodes[2]!], 'down1of3', true)));
});

describe('5 nodes, full mesh', () => {
  let g: Grid;
  before(async () => {
    g = await dumpOnFailure(() => startGrid({ ids: ['A', 'B', 'C', 'D', 'E'], topology: 'mesh' }));
  });
  after(() => g?.close());

  test('files from every node converge everywhere', () =>
    dumpOnFailure(() => convergeFromEveryNode(g, 'mesh5')));

  test('stop 2 of 5: the other three keep committing; offline writes survive', () =>
    dumpOnFailure(() => loseMinority(g, [g.nodes[3]!, g.nodes[4]!], 'down2of5', false)));
});

test('stop 2 of 3: the one left reports minority, records uncommitted changes, and loses no version', () =>
  withGrid({ ids: ['A', 'B', 'C'], topology: 'mesh' }, async (g) => {
    const step = stepper('down2of3');
    const [a, b, c] = g.nodes as [GridNode, GridNode, GridNode];
    step('started; seed doc.txt');
    await writeBytes(a.dir, 'doc.txt', 'first version, committed\n');
    await Promise.all(g.nodes.map((x) => waitForContent(x.dir, 'doc.txt', 'first version, committed\n')));
    await Promise.all(g.nodes.map((x) => waitStatus(x.port, healthy(g, x), `${x.id} committed doc.txt`)));

    step('stop B and C');
    const mark = a.daemon.mark();
    assert.deepEqual(await g.stop([b.index, c.index]), [0, 0]);
    const alone: Expect = {
      size: 3,
      quorum: 2,
      majority: false,
      reachable: 1,
      members: { A: 'self', B: 'unreachable', C: 'unreachable' },
    };
    await a.daemon.waitForLine(MINORITY, SYNC_TIMEOUT, { since: mark });
    step('A logged minority');
    const s0 = await settle(a.port, { ...alone, uncommitted: 0 }, 'A alone');
    assert.equal(s0.cluster.minority, true);
    assert.equal(s0.cluster.reachable, 1);

    // Alone, A still records its changes: they count as uncommitted.
    step('A edits while alone');
    const editsFrom = Date.now();
    await writeBytes(a.dir, 'doc.txt', 'edited on A while alone\n');
    await writeBytes(a.dir, 'alone/new-on-A.txt', 'created on A while alone\n');
    // At least two operations (the edit and the new file), none of them committed.
    await waitStatus(a.port, { ...alone, uncommitted: { atLeast: 2 } }, 'A recorded its edits');
    const s1 = await settle(a.port, { ...alone, uncommitted: { atLeast: 2 } }, 'A recorded its edits');
    assert.equal(s1.cluster.minority, true);
    assert.equal(s1.counts.files, 2);

    // B and C edit the same file while stopped.
    step('offline edits on B and C, restart');
    await writeBytes(b.dir, 'doc.txt', 'edited on B while stopped\n');
    await writeBytes(c.dir, 'doc.txt', 'edited on C while stopped\n');
    await writeBytes(b.dir, 'offline/new-on-B.txt', 'created on B while stopped\n');
    const mark2 = a.daemon.mark();
    await g.restart([b.index, c.index]);
    await a.daemon.waitForLine(MAJORITY_AGAIN, SYNC_TIMEOUT, { since: mark2 });
    step('A logged majority again; wait for convergence');
    const versions = {
      A: 'edited on A while alone\n',
      B: 'edited on B while stopped\n',
      C: 'edited on C while stopped\n',
    };
    // Every version on every node: one as doc.txt, the other two as copies named after
    // their nodes.
    await waitShown(g, 'doc.txt', (shown) => {
      const bad: string[] = [];
      const all = allContents(shown);
      const want = Object.values(versions).sort();
      if (JSON.stringify(all) !== JSON.stringify(want)) bad.push(`contents ${JSON.stringify(all)}`);
      if (shown.copies.size !== 2) bad.push(`${shown.copies.size} copies`);
      for (const [name, content] of shown.copies) {
        const node = copyNode(name);
        if (node === null || versions[node as keyof typeof versions] !== content)
          bad.push(`${name}: ${JSON.stringify(content)}`);
        bad.push(copyTimeProblem(name, editsFrom, Date.now()));
      }
      return bad.filter((b) => b !== '');
    });
    const tree = await waitTreesEqual(dirs(g.nodes), { message: 'all three converge after the restart' });
    assert.equal(tree.get('alone/new-on-A.txt')?.sha256, sha256('created on A while alone\n'));
    assert.equal(tree.get('offline/new-on-B.txt')?.sha256, sha256('created on B while stopped\n'));
    step('wait for statuses to settle');
    // doc.txt, its two copies, alone/new-on-A.txt and offline/new-on-B.txt.
    const after = (x: GridNode): Expect => ({ ...healthy(g, x), files: 5, conflicts: 2 });
    await Promise.all(g.nodes.map((x) => waitStatus(x.port, after(x), `${x.id} after the restart`)));
    step('status CLI');
    await settle(a.port, after(a), 'A after the restart');
    step('done');
  }));

test('partition {A} | {B, C}: the committed version from the majority wins; A’s stays as a copy', () =>
  withGrid({ ids: ['A', 'B', 'C'], topology: 'mesh' }, async (g) => {
    const step = stepper('partition');
    const [a, b, c] = g.nodes as [GridNode, GridNode, GridNode];
    step('started; seed p.txt');
    await writeBytes(b.dir, 'p.txt', 'before the partition\n');
    await Promise.all(g.nodes.map((x) => waitForContent(x.dir, 'p.txt', 'before the partition\n')));
    await Promise.all(g.nodes.map((x) => waitStatus(x.port, healthy(g, x), `${x.id} committed p.txt`)));

    step('partition');
    const mark = a.daemon.mark();
    g.partition([[a.index], [b.index, c.index]]);
    const aAlone: Expect = {
      size: 3,
      quorum: 2,
      majority: false,
      reachable: 1,
      members: { A: 'self', B: 'unreachable', C: 'unreachable' },
    };
    const majoritySide = (x: GridNode): Expect => ({
      size: 3,
      quorum: 2,
      majority: true,
      reachable: 2,
      members: membersSeenBy(g, x, [b, c]),
    });
    await Promise.all([
      a.daemon.waitForLine(MINORITY, SYNC_TIMEOUT, { since: mark }),
      waitStatus(a.port, aAlone, 'A cut off'),
      waitStatus(b.port, majoritySide(b), 'B without A'),
      waitStatus(c.port, majoritySide(c), 'C without A'),
    ]);
    step('status CLI');
    await settle(a.port, aAlone, 'A cut off');

    // B edits first (committed by B and C), then A (a later timestamp, but uncommitted).
    step('B edits');
    await writeBytes(b.dir, 'p.txt', 'edited on B, majority side\n');
    await waitForContent(c.dir, 'p.txt', 'edited on B, majority side\n');
    await Promise.all([
      waitStatus(b.port, { ...majoritySide(b), uncommitted: 0 }, 'B committed its edit'),
      waitStatus(c.port, { ...majoritySide(c), uncommitted: 0 }, 'C committed B’s edit'),
    ]);
    step('A edits');
    const aWroteAt = Date.now();
    await writeBytes(a.dir, 'p.txt', 'edited on A, minority side\n');
    await waitStatus(a.port, { ...aAlone, uncommitted: { atLeast: 1 } }, 'A recorded its edit');
    step('status CLI');
    await settle(b.port, { ...majoritySide(b), uncommitted: 0 }, 'B committed its edit');
    await settle(a.port, { ...aAlone, uncommitted: { atLeast: 1 } }, 'A recorded its edit');

    step('heal');
    const mark2 = a.daemon.mark();
    g.heal();
    await a.daemon.waitForLine(MAJORITY_AGAIN, SYNC_TIMEOUT, { since: mark2 });
    step('A logged majority again; wait for convergence');
    await waitShown(g, 'p.txt', (shown) => {
      const bad: string[] = [];
      if (shown.file !== 'edited on B, majority side\n')
        bad.push(`p.txt holds ${JSON.stringify(shown.file)}`);
      const copies = [...shown.copies];
      if (
        copies.length !== 1 ||
        copies[0]![1] !== 'edited on A, minority side\n' ||
        copyNode(copies[0]![0]) !== 'A'
      )
        bad.push(`copies ${JSON.stringify(copies)}, want A's version only`);
      // Named after the time A made its version (UTC).
      for (const [name] of copies) bad.push(copyTimeProblem(name, aWroteAt, Date.now()));
      return bad.filter((b) => b !== '');
    });
    await waitTreesEqual(dirs(g.nodes), { message: 'the three converge after the heal' });
    step('wait for statuses to settle');
    // p.txt and A's copy of it.
    const after = (x: GridNode): Expect => ({ ...healthy(g, x), files: 2, conflicts: 1 });
    await Promise.all(g.nodes.map((x) => waitStatus(x.port, after(x), `${x.id} after the heal`)));
    step('status CLI');
    await settle(a.port, after(a), 'A after the heal');
    step('done');
  }));

test('minority is logged only once the majority stayed lost for the 3 s grace', async () => {
  // No log dump on failure (no dumpOnFailure): the message says it all.
  const g = await startGrid({ ids: ['A', 'B', 'C'], topology: 'mesh' });
  try {
    // A arms its grace timer at start-up, before any peer is attached. Kill B and C 1 s
    // after A is ready (a scenario time, not a wait for a condition): with gossip every
    // 500 ms A counts them gone by ready + 2.5 s, and must not report before kill + 3 s.
    const [a, b, c] = g.nodes as [GridNode, GridNode, GridNode];
    await a.daemon.waitForLine(/\speer connected peer=B /, SYNC_TIMEOUT);
    await a.daemon.waitForLine(/\speer connected peer=C /, SYNC_TIMEOUT);
    const readyAt = findLine(a.daemon, READY, 0)!.t;
    await new Promise((r) => setTimeout(r, Math.max(0, readyAt + 1000 - Date.now())));
    const mark = a.daemon.mark();
    const lostAt = Date.now();
    await Promise.all([b.daemon.kill9(), c.daemon.kill9()]);
    await a.daemon.waitForLine(MINORITY, SYNC_TIMEOUT, { since: mark });
    const reportedAt = findLine(a.daemon, MINORITY, mark)!.t;
    assert.ok(
      reportedAt - lostAt >= 3000,
      `minority reported ${reportedAt - lostAt} ms after B and C were killed (${lostAt - readyAt} ms after A was ready); grace: 3000 ms`,
    );
    await settle(a.port, { size: 3, quorum: 2, majority: false, reachable: 1 }, 'A alone');
  } finally {
    await g.close();
  }
});

test('resonate status with no daemon on the port: exit 1 and one line', async () => {
  await checkNoDaemon(await freePort());
});
