// DiskFs subjects for the contract: a fresh temp folder per case, "another process" acting
// through plain node:fs, and an escape target outside the folder that must never change.
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConfineMode, DiskFs } from '../../src/fs/disk.ts';
import { makeTempDir } from '../harness/tmp.ts';
import type { MakeSubject, Subject, SubjectOptions } from './contract.ts';

export async function makeEscape(): Promise<string> {
  const outsideDir = await makeTempDir('resonate-escape-');
  await writeFile(join(outsideDir, 'passwd'), 'secret', { mode: 0o644 });
  return outsideDir;
}

export function diskSubject(confine: ConfineMode): MakeSubject {
  return async (opts: SubjectOptions = {}): Promise<Subject> => {
    const root = await makeTempDir('resonate-diskfs-');
    const outsideDir = await makeEscape();
    const fs = new DiskFs(root, { confine, ...(opts.random ? { random: opts.random } : {}) });
    const at = (p: string) => join(root, p);
    return {
      fs,
      out: {
        writeFile: (p, data) => writeFile(at(p), data),
        readFile: (p) => readFile(at(p), 'utf8').catch(() => null),
        mkdir: async (p) => {
          await mkdir(at(p), { recursive: true });
        },
        symlink: (target, p) => symlink(target, at(p)),
        rmrf: (p) => rm(at(p), { recursive: true, force: true }),
        mv: (a, b) => rename(at(a), at(b)),
        mkfifo: async (p) => {
          execFileSync('mkfifo', [at(p)]);
        },
        escape: outsideDir,
        escapeState: async () => ({
          names: (await readdir(outsideDir)).sort(),
          passwd: await readFile(join(outsideDir, 'passwd'), 'utf8').catch(() => null),
          mode: await lstat(join(outsideDir, 'passwd')).then(
            (s) => s.mode & 0o7777,
            () => null,
          ),
        }),
      },
    };
  };
}
