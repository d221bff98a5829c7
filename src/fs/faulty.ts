// FaultyFs: a FileSystem wrapper that makes chosen operations fail, for tests of how the
// node copes with a full disk, I/O errors, permissions and files vanishing between a stat
// and a read. Rules (see faulty-spec.ts for the RESONATE_FAULTS text form) are checked in
// order before the call reaches the wrapped FileSystem; the first that fires wins.
// Deterministic unless a rule has a probability, which needs an injected random source.
import { type FaultError, type FaultOp, type FaultRule, faultError, fromEnv } from './faulty-spec.ts';
import type { CommitOptions, DirEntry, FileSystem, ReadHandle, Stat, TempFile } from './types.ts';

export { type FaultError, type FaultOp, type FaultRule, fromEnv } from './faulty-spec.ts';

export interface InjectedFault {
  op: FaultOp;
  path: string;
  error: FaultError;
}

interface Armed {
  rule: FaultRule;
  seen: number;
  fired: number;
}

export class FaultyFs implements FileSystem {
  /** Every fault injected so far, in order. */
  readonly injected: InjectedFault[] = [];
  private armed: Armed[] = [];

  constructor(
    readonly inner: FileSystem,
    rules: readonly FaultRule[] = [],
    private readonly random?: (n: number) => Uint8Array,
  ) {
    for (const rule of rules) this.add(rule);
  }

  /** Wrap `inner` if `spec` (RESONATE_FAULTS) is non-empty; otherwise return it as is. */
  static fromEnv(
    inner: FileSystem,
    spec: string | undefined,
    random?: (n: number) => Uint8Array,
  ): FileSystem {
    const rules = fromEnv(spec ?? '');
    return rules.length === 0 ? inner : new FaultyFs(inner, rules, random);
  }

  get root(): string {
    return this.inner.root;
  }

  add(rule: FaultRule): void {
    if (rule.probability !== undefined && this.random === undefined) {
      throw new Error(`fault rule ${rule.op}:${rule.error}: probability needs an injected random source`);
    }
    this.armed.push({ rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.armed = [];
  }

  /** Throws the injected error if a rule fires for this call. */
  private trip(op: FaultOp, ...paths: string[]): void {
    const hit = this.pick(op, paths);
    if (hit !== null) throw faultError(hit.error, hit.path, op);
  }

  private pick(op: FaultOp, paths: string[]): InjectedFault | null {
    for (const a of this.armed) {
      const { rule } = a;
      if (rule.op !== op && rule.op !== '*') continue;
      const path = rule.path === undefined ? paths[0] : paths.find((p) => matches(rule.path as RegExp, p));
      if (path === undefined) continue;
      a.seen++;
      if (a.seen <= (rule.after ?? 0)) continue;
      if (a.fired >= (rule.times ?? Number.POSITIVE_INFINITY)) continue;
      if (rule.probability !== undefined && !this.chance(rule.probability)) continue;
      a.fired++;
      const fault = { op, path, error: rule.error };
      this.injected.push(fault);
      return fault;
    }
    return null;
  }

  private chance(p: number): boolean {
    const bytes = (this.random as (n: number) => Uint8Array)(4);
    return Buffer.from(bytes).readUInt32BE(0) / 2 ** 32 < p;
  }

  async lstat(path: string): Promise<Stat | null> {
    const hit = this.pick('lstat', [path]);
    if (hit?.error === 'VANISH') return null;
    if (hit !== null) throw faultError(hit.error, path, 'lstat');
    return this.inner.lstat(path);
  }
  async readdir(path: string): Promise<DirEntry[]> {
    this.trip('readdir', path);
    return this.inner.readdir(path);
  }
  async readdirStat(path: string): Promise<{ name: string; stat: Stat | null }[]> {
    this.trip('readdir', path);
    const entries = await this.inner.readdirStat(path);
    return entries.map((e) => {
      this.trip('lstat', path === '' ? e.name : `${path}/${e.name}`);
      return e;
    });
  }
  async readlink(path: string): Promise<string> {
    this.trip('readlink', path);
    return this.inner.readlink(path);
  }
  async openRead(path: string): Promise<ReadHandle> {
    this.trip('openRead', path);
    const handle = await this.inner.openRead(path);
    return {
      read: async (buf, offset, length, position) => {
        this.trip('read', path);
        return handle.read(buf, offset, length, position);
      },
      stat: () => handle.stat(),
      close: () => handle.close(),
    };
  }
  async createTemp(target: string, size?: number): Promise<TempFile> {
    this.trip('createTemp', target);
    const temp = await this.inner.createTemp(target, size);
    return {
      path: temp.path,
      write: async (data, position, copied) => {
        this.trip('write', target);
        return temp.write(data, position, copied);
      },
      prepare: (meta) => temp.prepare(meta),
      commit: async (to: string, opts: CommitOptions) => {
        try {
          this.trip('commit', to);
        } catch (err) {
          await temp.abort(); // as a failed DiskFs commit, leave no temp file behind
          throw err;
        }
        return temp.commit(to, opts);
      },
      abort: async () => {
        this.trip('abort', target);
        return temp.abort();
      },
    };
  }
  async mkdir(path: string, mode?: number): Promise<void> {
    this.trip('mkdir', path);
    return this.inner.mkdir(path, mode);
  }
  async rmdir(path: string): Promise<void> {
    this.trip('rmdir', path);
    return this.inner.rmdir(path);
  }
  async unlink(path: string): Promise<void> {
    this.trip('unlink', path);
    return this.inner.unlink(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.trip('rename', from, to);
    return this.inner.rename(from, to);
  }
  async symlink(target: string, path: string): Promise<void> {
    this.trip('symlink', path);
    return this.inner.symlink(target, path);
  }
  async chmod(path: string, mode: number): Promise<void> {
    this.trip('chmod', path);
    return this.inner.chmod(path, mode);
  }
  async utimes(path: string, mtimeMs: number): Promise<void> {
    this.trip('utimes', path);
    return this.inner.utimes(path, mtimeMs);
  }
  async fsyncDir(path: string): Promise<void> {
    this.trip('fsyncDir', path);
    return this.inner.fsyncDir(path);
  }
}

function matches(re: RegExp, path: string): boolean {
  re.lastIndex = 0; // a /g or /y regex would otherwise remember where it stopped
  return re.test(path);
}
