// The FileSystem contract, written once and run against every implementation (DiskFs in
// both confinement modes, MemFs). A Subject pairs the FileSystem with "another process"
// that changes the folder behind its back, which is where most attacks and races come from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileSystem, FsErrorCode } from '../../src/fs/types.ts';

export interface Outside {
  writeFile(path: string, data: string): Promise<void>;
  readFile(path: string): Promise<string | null>;
  mkdir(path: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  rmrf(path: string): Promise<void>;
  mv(from: string, to: string): Promise<void>;
  mkfifo(path: string): Promise<void>;
  /** Link text pointing out of the folder, at a directory holding a file "passwd". */
  escape: string;
  /** Contents of that directory: must stay ["passwd"] with content "secret". */
  escapeState(): Promise<{ names: string[]; passwd: string | null; mode: number | null }>;
}

export interface Subject {
  fs: FileSystem;
  out: Outside;
}

export interface SubjectOptions {
  random?: (n: number) => Uint8Array;
}

export type MakeSubject = (opts?: SubjectOptions) => Promise<Subject>;

export async function expectCode(p: Promise<unknown>, code: FsErrorCode, path?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as { code?: string; path?: string };
    assert.equal(e.code, code, `expected ${code}, got ${String(e.code)}: ${String(err)}`);
    if (path !== undefined) assert.equal(e.path, path);
    return true;
  });
}

export async function readAll(fs: FileSystem, path: string): Promise<string> {
  const h = await fs.openRead(path);
  try {
    const chunks: Buffer[] = [];
    const buf = new Uint8Array(7); // small on purpose: exercises positioned reads
    for (let pos = 0; ; ) {
      const n = await h.read(buf, 0, buf.length, pos);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await h.close();
  }
}

/** Write a file through the contract (temp + commit). */
export async function put(
  fs: FileSystem,
  path: string,
  text: string,
  mode = 0o644,
  mtimeMs = 1_700_000_000_000,
) {
  const t = await fs.createTemp(path);
  await t.write(Buffer.from(text), 0);
  return t.commit(path, { mode, mtimeMs });
}

export type Case = [name: string, run: (s: Subject, make: MakeSubject) => Promise<void>];

export function runContract(label: string, make: MakeSubject, cases: readonly Case[]): void {
  describe(label, () => {
    for (const [name, run] of cases) {
      it(name, async () => {
        await run(await make(), make);
      });
    }
  });
}

export async function escapeUntouched(s: Subject): Promise<void> {
  assert.deepEqual(await s.out.escapeState(), { names: ['passwd'], passwd: 'secret', mode: 0o644 });
}
