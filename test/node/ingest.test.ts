import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { ofDot } from '../../src/clock/vector.ts';
import { parentOf } from '../../src/fs/paths.ts';
import { Store } from '../../src/log/store.ts';
import type { Db } from '../../src/log/store-db.ts';
import { Txn } from '../../src/log/txn.ts';
import { isTombstone } from '../../src/model/version.ts';
import { ingest } from '../../src/node/ingest.ts';
import { Kind, type Operation } from '../../src/proto/types.ts';

const PATHS = ['a', 'a/b', 'a/b/c', 'a/d', 'e', 'e/f'];

test('live-children counts always equal a recount from the heads', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          path: fc.constantFrom(...PATHS),
          kind: fc.constantFrom(Kind.Put, Kind.Delete, Kind.Mkdir),
        }),
        {
          maxLength: 30,
        },
      ),
      async (steps) => {
        const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' }) as unknown as Db;
        const store = await Store.open(db, { random: (n) => new Uint8Array(n), nodeId: 'n' });
        let seq = 0;
        for (const s of steps) {
          const txn = new Txn(store);
          seq++;
          // Each op knows everything before it at its path (a single writer).
          const prev = store.getHead(s.path)?.versions ?? [];
          const clock = prev.reduce(
            (c, v) => ({ vv: { ...c.vv, ...v.clock.vv }, except: [] }),
            ofDot({ origin: store.origin, seq }),
          );
          clock.vv[store.origin] = seq;
          const op: Operation = {
            format: 1,
            origin: store.origin,
            seq,
            clock,
            hlc: seq,
            path: s.path,
            kind: s.kind,
            mode: 0o644,
            mtimeMs: 0,
            content: null,
            link: '',
            to: '',
            entries: [],
          };
          ingest(txn, op);
          await txn.commit();
        }
        const live = new Set<string>();
        for await (const [p, h] of store.heads()) if (h.versions.some((v) => !isTombstone(v))) live.add(p);
        // A path is effectively live if it has data or any live path below it.
        const effective = (p: string) => [...live].some((q) => q === p || q.startsWith(`${p}/`));
        for (const dir of ['', ...PATHS]) {
          const expected = PATHS.filter((c) => parentOf(c) === dir && effective(c)).length;
          assert.equal(store.liveChildren(dir), expected, `liveChildren(${JSON.stringify(dir)})`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
