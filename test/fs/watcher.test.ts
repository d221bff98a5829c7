// Both watcher backends through one table of cases on real temp folders. Conditions are
// awaited by polling the collected events; "never reported" is checked after a sentinel
// file written last has been seen.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isOwnName } from '../../src/fs/paths.ts';
import { AUTO_CHOKIDAR_BELOW, chooseBackend, createWatcher } from '../../src/fs/watcher/index.ts';
import {
  toWatchError,
  type WatchEvent,
  type WatchEventKind,
  type Watcher,
} from '../../src/fs/watcher/types.ts';

type Backend = 'chokidar' | 'native';
const DEADLINE_MS = 5000;

/** inotify watches held by this process (Linux), or null where /proc is not there. */
function inotifyWatches(): number | null {
  if (!existsSync('/proc/self/fdinfo')) return null;
  let n = 0;
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // fd closed meanwhile
    }
  }
  return n;
}

async function waitFor(cond: () => boolean, what: string, events: () => WatchEvent[]): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!cond()) {
    if (Date.now() > end) {
      assert.fail(`timed out waiting for ${what}; events: ${JSON.stringify(events().slice(-30))}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

class Harness {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  watcher!: Watcher;
  private sentinels = 0;
  constructor(
    readonly backend: Backend,
    readonly root: string,
  ) {}

  /** Watches this watcher added (Linux), measured around ready(). */
  watchesAdded: number | null = null;

  /** `ownNames: false` leaves our own names to the backend's guard alone. */
  async start(ignored: (p: string, isDir: boolean) => boolean = () => false, ownNames = true): Promise<void> {
    const before = inotifyWatches();
    this.watcher = createWatcher(this.backend, {
      root: this.root,
      ignored: (p, isDir) => (ownNames && isOwnName(p)) || ignored(p, isDir),
      onEvents: (evs) => this.events.push(...evs),
      onError: (err) => this.errors.push(err),
    });
    await this.watcher.ready();
    const now = inotifyWatches();
    if (before !== null && now !== null) this.watchesAdded = now - before;
  }

  p(rel: string): string {
    return join(this.root, rel);
  }

  has(path: string, kinds?: WatchEventKind[]): boolean {
    return this.events.some((e) => e.path === path && (kinds === undefined || kinds.includes(e.kind)));
  }

  async seen(path: string, kinds?: WatchEventKind[]): Promise<void> {
    await waitFor(
      () => this.has(path, kinds),
      `${path} ${kinds?.join('|') ?? ''}`,
      () => this.events,
    );
  }

  /** Write a new file and wait for it: whatever happened before has been delivered by then. */
  async barrier(): Promise<void> {
    const name = `zz-sentinel-${this.sentinels++}`;
    await writeFile(this.p(name), 'x');
    await this.seen(name);
  }

  under(dir: string): WatchEvent[] {
    return this.events.filter((e) => e.path === dir || e.path.startsWith(`${dir}/`));
  }
}

interface Case {
  name: string;
  setup?: (root: string) => Promise<void>;
  ignored?: (p: string, isDir: boolean) => boolean;
  /** Backends that fail this case for reasons of their own, with the reason (the case is skipped). */
  brokenIn?: Partial<Record<Backend, string>>;
  /** Let the backend alone keep our own names out (the caller's function does not). */
  bareIgnore?: boolean;
  run: (h: Harness) => Promise<void>;
}

const outside: string[] = [];

const cases: Case[] = [
  {
    name: 'create, modify, delete a file',
    run: async (h) => {
      await writeFile(h.p('a.txt'), 'one');
      await h.seen('a.txt', ['add', 'unknown']);
      const n = h.events.length;
      await writeFile(h.p('a.txt'), 'two');
      await waitFor(
        () => h.events.slice(n).some((e) => e.path === 'a.txt'),
        'change',
        () => h.events,
      );
      await rm(h.p('a.txt'));
      await h.seen('a.txt', ['unlink', 'unknown']);
    },
  },
  {
    name: 'rename a file',
    setup: async (root) => writeFile(join(root, 'old.txt'), 'x'),
    run: async (h) => {
      await rename(h.p('old.txt'), h.p('new.txt'));
      await h.seen('old.txt', ['unlink', 'unknown']);
      await h.seen('new.txt', ['add', 'unknown']);
    },
  },
  {
    name: 'mkdir',
    run: async (h) => {
      await mkdir(h.p('d'));
      await h.seen('d', ['addDir']);
      await writeFile(h.p('d/f'), 'x');
      await h.seen('d/f');
    },
  },
  {
    name: 'nested mkdir -p then files inside right away',
    run: async (h) => {
      await mkdir(h.p('n1/n2/n3'), { recursive: true });
      await writeFile(h.p('n1/n2/n3/f'), 'x');
      await writeFile(h.p('n1/g'), 'x');
      await h.seen('n1/n2/n3', ['addDir']);
      await h.seen('n1/n2/n3/f');
      await h.seen('n1/g');
      await writeFile(h.p('n1/n2/n3/later'), 'x'); // the deepest folder is watched
      await h.seen('n1/n2/n3/later');
    },
  },
  {
    name: 'rename a directory with files',
    setup: async (root) => {
      await mkdir(join(root, 'src/sub'), { recursive: true });
      await writeFile(join(root, 'src/a'), 'x');
      await writeFile(join(root, 'src/sub/b'), 'x');
    },
    run: async (h) => {
      await rename(h.p('src'), h.p('dst'));
      await h.seen('src', ['unlinkDir', 'unknown']);
      await h.seen('dst', ['addDir', 'unknown']);
      if (h.backend === 'native') {
        await h.seen('dst/a', ['add']);
        await h.seen('dst/sub', ['addDir']);
        await h.seen('dst/sub/b', ['add']);
      }
      await writeFile(h.p('dst/sub/c'), 'x'); // the moved folder is watched under its new name
      await h.seen('dst/sub/c');
    },
  },
  {
    name: 'a directory moved in from outside reports its contents',
    run: async (h) => {
      const out = await mkdtemp(join(tmpdir(), 'resonate-watch-out-'));
      outside.push(out);
      await mkdir(join(out, 'm/deep'), { recursive: true });
      await writeFile(join(out, 'm/deep/f'), 'x');
      await rename(join(out, 'm'), h.p('m'));
      await h.seen('m', ['addDir']);
      await h.seen('m/deep/f', ['add']);
    },
  },
  {
    name: 'delete a directory tree',
    setup: async (root) => {
      await mkdir(join(root, 't/u/v'), { recursive: true });
      await writeFile(join(root, 't/u/v/f'), 'x');
    },
    run: async (h) => {
      await rm(h.p('t'), { recursive: true });
      await h.seen('t', ['unlinkDir']);
      await writeFile(h.p('t'), 'now a file'); // same name, different kind
      await h.barrier();
      assert.ok(h.has('t', ['add', 'unknown', 'change']));
    },
  },
  {
    name: 'a directory replaced by another of the same name',
    setup: async (root) => {
      await mkdir(join(root, 'r'));
      await mkdir(join(root, 'r2/old'), { recursive: true });
    },
    brokenIn: {
      chokidar:
        'chokidar keeps its dead watch on a folder recreated under the same name (bench/notes/watchers.md)',
    },
    run: async (h) => {
      for (const dir of ['r2', 'r']) {
        // In one go, as another process would: the watcher sees the events only afterwards.
        rmSync(h.p(dir), { recursive: true });
        mkdirSync(h.p(dir));
        writeFileSync(h.p(`${dir}/f1`), 'x');
        await h.seen(`${dir}/f1`);
        await writeFile(h.p(`${dir}/f2`), 'x'); // the new folder is the one watched
        await h.seen(`${dir}/f2`);
      }
    },
  },
  {
    name: 'symlink to a directory outside the root: reported, not followed',
    setup: async (root) => {
      const out = await mkdtemp(join(tmpdir(), 'resonate-watch-out-'));
      outside.push(out);
      await writeFile(join(out, 'inside'), 'x');
      await symlink(out, join(root, 'pre-link'));
    },
    run: async (h) => {
      const out = outside.at(-1)!;
      await symlink(out, h.p('link'));
      await h.seen('link');
      await writeFile(join(out, 'inside'), 'changed');
      await writeFile(join(out, 'new'), 'x');
      await mkdir(join(out, 'newdir'));
      await h.barrier();
      assert.deepEqual(
        h.events.filter((e) => e.path.startsWith('link/') || e.path.startsWith('pre-link/')),
        [],
      );
    },
  },
  {
    name: 'ignored paths are never reported',
    setup: async (root) => {
      await mkdir(join(root, '.resonate/db'), { recursive: true });
      await mkdir(join(root, 'skip'));
      await mkdir(join(root, 'keep'));
    },
    ignored: (p, isDir) =>
      p === 'skip' || p.startsWith('skip/') || p.endsWith('.log') || (isDir && p === 'build'),
    bareIgnore: true,
    run: async (h) => {
      // Nothing inside .resonate or skip/ is watched: the root and keep/ only.
      if (h.backend === 'native' && h.watchesAdded !== null) assert.equal(h.watchesAdded, 2);
      await writeFile(h.p('.resonate/db/LOG'), 'x');
      await mkdir(h.p('.resonate/sub'));
      await writeFile(h.p('.resonate/sub/f'), 'x');
      await writeFile(h.p('keep/.resonate-tmp-x'), 'x');
      await writeFile(h.p('.resonate-tmp-y'), 'x');
      await writeFile(h.p('skip/f'), 'x');
      await mkdir(h.p('skip/deeper'));
      await writeFile(h.p('keep/x.log'), 'x');
      await mkdir(h.p('build'));
      await writeFile(h.p('build/out'), 'x');
      await writeFile(h.p('keep/visible'), 'x');
      await h.seen('keep/visible');
      await h.barrier();
      const bad = h.events.filter(
        (e) =>
          isOwnName(e.path) ||
          e.path.startsWith('skip') ||
          e.path.endsWith('.log') ||
          e.path.startsWith('build'),
      );
      assert.deepEqual(bad, []);
    },
  },
  {
    name: 'a rule for folders only does not hide a file of that name',
    ignored: (p, isDir) => isDir && p === 'build',
    run: async (h) => {
      await writeFile(h.p('build'), 'a file');
      await h.seen('build');
    },
  },
  {
    name: 'close() stops events and releases watches',
    setup: async (root) => {
      await mkdir(join(root, 'c/d'), { recursive: true });
      await writeFile(join(root, 'c/d/f'), 'x');
    },
    run: async (h) => {
      const before = inotifyWatches();
      await h.watcher.close();
      const afterClose = inotifyWatches();
      if (before !== null && afterClose !== null) {
        assert.ok(before - afterClose >= 3, `watches before ${before}, after close ${afterClose}`);
      }
      const n = h.events.length;
      // A second watcher tells when the writes below have surely been delivered.
      const witness = new Harness('native', h.root);
      await witness.start();
      await writeFile(h.p('c/d/f'), 'after close');
      await writeFile(h.p('c/late'), 'x');
      await witness.seen('c/late');
      await witness.watcher.close();
      assert.equal(h.events.length, n);
    },
  },
];

const roots: string[] = [];
after(async () => {
  for (const dir of [...roots, ...outside]) await rm(dir, { recursive: true, force: true });
});

for (const backend of ['chokidar', 'native'] as const) {
  describe(`watcher: ${backend}`, () => {
    for (const c of cases) {
      const broken = process.env.WATCHER_TEST_BROKEN ? undefined : c.brokenIn?.[backend];
      test(c.name, { skip: broken }, async () => {
        const root = await mkdtemp(join(tmpdir(), 'resonate-watch-'));
        roots.push(root);
        await c.setup?.(root);
        const h = new Harness(backend, root);
        await h.start(c.ignored, !c.bareIgnore);
        try {
          await c.run(h);
          assert.deepEqual(h.errors, []);
        } finally {
          await h.watcher.close();
        }
      });
    }
    test('ready() rejects for a missing root', async () => {
      const w = createWatcher(backend, {
        root: join(tmpdir(), 'resonate-watch-does-not-exist'),
        ignored: () => false,
        onEvents: () => {},
        onError: () => {},
      });
      await assert.rejects(w.ready(), { name: 'WatchError', code: 'ENOENT' });
      await w.close();
    });
  });
}

test('auto follows the measured threshold; unknown size means native', () => {
  const limit = AUTO_CHOKIDAR_BELOW;
  if (limit > 0) assert.equal(chooseBackend('auto', limit - 1), 'chokidar');
  assert.equal(chooseBackend('auto', limit), 'native');
  assert.equal(chooseBackend('auto', 0), limit > 0 ? 'chokidar' : 'native');
  assert.equal(chooseBackend('auto'), 'native');
  assert.equal(chooseBackend('chokidar', 1_000_000), 'chokidar');
  assert.equal(chooseBackend('native', 1), 'native');
});

test('limit errors say which limit and how to raise it', () => {
  const enospc = toWatchError(Object.assign(new Error('ENOSPC: System limit'), { code: 'ENOSPC' }), '/x/y');
  assert.equal(enospc.code, 'ENOSPC');
  assert.equal(enospc.path, '/x/y');
  assert.match(enospc.message, /fs\.inotify\.max_user_watches.*sysctl/);
  const emfile = toWatchError(Object.assign(new Error('EMFILE'), { code: 'EMFILE' }), '/x');
  assert.match(emfile.message, /ulimit -n.*max_user_instances/);
  assert.equal(toWatchError(new Error('odd'), '/x').code, 'ERR_WATCH_FAILED');
});
