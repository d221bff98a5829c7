import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { covers, dotKey, withDot } from '../../src/clock/vector.ts';
import { applyAll, applyVersion, emptyHead, pastOf } from '../../src/model/head.ts';
import { Kind, type Version } from '../../src/proto/types.ts';

/**
 * Histories made the way replicas make them: each node holds the live versions it has
 * seen; a local edit replaces the one version it shows and excepts its own other live
 * siblings; a sync merges another node's versions.
 */
type Event = { kind: 'edit'; node: number; pick: number } | { kind: 'sync'; from: number; to: number };
const NODES = 3;
const arbEvents = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('edit' as const), node: fc.nat(NODES - 1), pick: fc.nat(5) }),
    fc.record({ kind: fc.constant('sync' as const), from: fc.nat(NODES - 1), to: fc.nat(NODES - 1) }),
  ),
  { maxLength: 25 },
);

function makeHistory(events: Event[]): Version[] {
  const all: Version[] = [];
  const heads = Array.from({ length: NODES }, () => emptyHead());
  const seqs = new Array(NODES).fill(0);
  for (const e of events) {
    if (e.kind === 'edit') {
      const h = heads[e.node]!;
      const origin = `n${e.node}~x`;
      const seq = ++seqs[e.node];
      const shown = h.versions.length ? h.versions[e.pick % h.versions.length]! : null;
      const own = h.versions.filter((v) => v !== shown && v.dot.origin === origin).map((v) => v.dot);
      const base = shown ? shown.clock : { vv: {}, except: [] };
      const v: Version = {
        dot: { origin, seq },
        clock: withDot(base, { origin, seq }, own),
        hlc: all.length,
        kind: Kind.Put,
        mode: 0o644,
        mtimeMs: 0,
        content: null,
        link: '',
      };
      all.push(v);
      heads[e.node] = applyVersion(h, v).head;
    } else {
      heads[e.to] = applyAll(heads[e.to]!, heads[e.from]!.versions);
    }
  }
  return all;
}

const liveSet = (vs: Version[]) => new Set(vs.map((v) => dotKey(v.dot)));

test('the live set does not depend on arrival order or duplicates', () => {
  fc.assert(
    fc.property(
      arbEvents
        .map(makeHistory)
        .chain((all) =>
          fc.tuple(
            fc.constant(all),
            fc.shuffledSubarray(all, { minLength: all.length }),
            fc.array(fc.nat(), { maxLength: 5 }),
          ),
        ),
      ([all, shuffled, dups]) => {
        const expected = all.filter((v) => !all.some((u) => u !== v && covers(pastOf(u), v.dot)));
        const withDups = [...shuffled];
        for (const d of dups)
          if (all.length) withDups.splice(d % (withDups.length + 1), 0, all[d % all.length]!);
        const a = applyAll(emptyHead(), all);
        const b = applyAll(emptyHead(), withDups);
        assert.deepEqual(liveSet(a.versions), liveSet(expected));
        assert.deepEqual(liveSet(b.versions), liveSet(expected));
        assert.deepEqual(a.covered, b.covered);
      },
    ),
    { numRuns: 300 },
  );
});

test('an edit of the shown version keeps an own older sibling alive (exceptions)', () => {
  // n0 writes v1; n1 writes w concurrently; n0 sees both, shows w, edits it.
  const v1: Version = mk('n0~x', 1, withDot({ vv: {}, except: [] }, { origin: 'n0~x', seq: 1 }));
  const w: Version = mk('n1~x', 1, withDot({ vv: {}, except: [] }, { origin: 'n1~x', seq: 1 }));
  const edit = mk('n0~x', 2, withDot(w.clock, { origin: 'n0~x', seq: 2 }, [v1.dot]));
  const h = applyAll(emptyHead(), [v1, w, edit]);
  assert.deepEqual(liveSet(h.versions), new Set(['n0~x:1', 'n0~x:2']));
});

test('acceptance follows one chain: the first of two concurrent versions, then its descendants', () => {
  const a = mk('n0~x', 1, withDot({ vv: {}, except: [] }, { origin: 'n0~x', seq: 1 }));
  const b = mk('n1~x', 1, withDot({ vv: {}, except: [] }, { origin: 'n1~x', seq: 1 }));
  const a2 = mk('n0~x', 2, withDot(a.clock, { origin: 'n0~x', seq: 2 }));
  let h = emptyHead();
  const r1 = applyVersion(h, a);
  h = r1.head;
  const r2 = applyVersion(h, b);
  h = r2.head;
  const r3 = applyVersion(h, a2);
  assert.deepEqual([r1.accepted, r2.accepted, r3.accepted], [true, false, true]);
  assert.deepEqual(r3.head.accepted, a2.dot);
});

function mk(origin: string, seq: number, clock: Version['clock']): Version {
  return {
    dot: { origin, seq },
    clock,
    hlc: seq,
    kind: Kind.Put,
    mode: 0o644,
    mtimeMs: 0,
    content: null,
    link: '',
  };
}
