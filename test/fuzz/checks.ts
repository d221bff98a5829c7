// What must hold after hostile input, shared by the fuzz run and the security e2e tests:
// nothing outside the folder changed, nothing inside it has a name a peer may not send,
// and the daemon's log says what it refused without repeating itself for every input.
import { lstat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathProblem, STATE_DIR, TEMP_PREFIX } from '../../src/fs/paths.ts';
import type { Daemon } from '../harness/daemon.ts';
import { diffTrees, snapshotTree, type Tree } from '../harness/tree.ts';
import { ESCAPE_TOKEN } from './ops.ts';

export interface FolderProblems {
  /** Relative paths whose names checkPath refuses (temp files excluded). */
  refused: string[];
  /** Temp files (.resonate-tmp-*) still there. */
  temps: string[];
  entries: number;
}

/** Walk a synced folder without following links; the root state folder is skipped. */
export async function folderProblems(dir: string): Promise<FolderProblems> {
  const out: FolderProblems = { refused: [], temps: [], entries: 0 };
  const walk = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(abs);
    } catch {
      return; // vanished meanwhile
    }
    for (const name of names) {
      const p = rel ? `${rel}/${name}` : name;
      if (p === STATE_DIR) continue;
      out.entries++;
      if (name.startsWith(TEMP_PREFIX)) out.temps.push(p);
      else {
        const problem = pathProblem(p);
        if (problem) out.refused.push(`${JSON.stringify(p.slice(0, 120))}: ${problem}`);
      }
      const st = await lstat(join(abs, name)).catch(() => null);
      if (st?.isDirectory()) await walk(join(abs, name), p);
    }
  };
  await walk(dir, '');
  return out;
}

/**
 * Entries whose name contains ESCAPE_TOKEN outside the synced folders: under `root`
 * (the test's own area, recursively, minus the synced folders), and directly in the usual
 * targets of an absolute path (/, /etc, /tmp, the temp folder).
 */
export async function escapedEntries(
  root: string,
  syncedFolders: string[],
  token = ESCAPE_TOKEN,
): Promise<string[]> {
  const found: string[] = [];
  const skip = new Set(syncedFolders);
  const walk = async (abs: string, depth: number): Promise<void> => {
    if (skip.has(abs) || depth > 20) return;
    let names: string[];
    try {
      names = await readdir(abs);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(abs, name);
      if (skip.has(p)) continue;
      if (name.includes(token)) found.push(p);
      const st = await lstat(p).catch(() => null);
      if (st?.isDirectory()) await walk(p, depth + 1);
    }
  };
  await walk(root, 0);
  for (const dir of ['/', '/etc', '/tmp', tmpdir()]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (name.includes(token)) found.push(join(dir, name));
  }
  return [...new Set(found)];
}

/** A canary folder beside the synced one: compare its snapshot before and after. */
export async function canaryChanges(canary: string, before: Tree): Promise<string[]> {
  const after = await snapshotTree(canary, { ignore: [] });
  return diffTrees(before, after, { names: ['before', 'after'] });
}

export interface LogSummary {
  lines: number;
  /** Why links of the fuzzing peers ended, as the daemon logged it ("reason (by)" -> count). */
  linkEnds: [string, number][];
  /** "level message" -> count, most frequent first. */
  byMessage: [string, number][];
  /** Lines that mean a handler threw or a bug surfaced, and every error-level line. */
  errors: string[];
}

const LINE = /^\S+ (debug|info|warn|error)\s+(.*?)(?= [a-zA-Z]+=|$)/;
const BUG =
  /threw|uncaught|TypeError|RangeError|ReferenceError|reconcile failed|internal error|FATAL|heap out of memory/i;

/** Summarise a daemon's output between two marks. */
export function summariseLog(d: Daemon, from = 0, to = Number.POSITIVE_INFINITY): LogSummary {
  const all = d.lines();
  const first = d.mark() - all.length; // absolute index of all[0]
  const lines = all.filter((_, i) => first + i >= from && first + i < to);
  const counts = new Map<string, number>();
  const ends = new Map<string, number>();
  const errors: string[] = [];
  for (const l of lines) {
    const end = /peer link closed .*node=(?:fuzz|staller)\S* .*reason=("(?:[^"\\]|\\.)*"|\S+) by=(\w+)/.exec(
      l.text,
    );
    if (end) {
      const why = `${end[1]!.replace(/[0-9]+/g, 'N').slice(0, 90)} (${end[2]})`;
      ends.set(why, (ends.get(why) ?? 0) + 1);
    }
    const m = LINE.exec(l.text);
    const key = m ? `${m[1]} ${m[2]}` : l.text.slice(0, 60);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if ((BUG.test(l.text) || m?.[1] === 'error') && errors.length < 50) errors.push(l.text.slice(0, 400));
  }
  return {
    lines: lines.length,
    linkEnds: [...ends].sort((a, b) => b[1] - a[1]),
    byMessage: [...counts].sort((a, b) => b[1] - a[1]),
    errors,
  };
}
