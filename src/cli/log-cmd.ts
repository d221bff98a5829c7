// `resonate log`: the operation log, oldest first (by hybrid time), or the history of one
// path across every node. Reads the log directly, so the daemon must not be running.
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { hlcMs } from '../clock/hlc.ts';
import { Store } from '../log/store.ts';
import type { Db } from '../log/store-db.ts';
import { nodeOf } from '../model/version.ts';
import { KIND_NAMES, Kind, type Operation } from '../proto/types.ts';
import { realEnv } from '../util/env.ts';
import type { LogArgs } from './args.ts';
import { StartError } from './daemon.ts';

export function opRecord(op: Operation) {
  return {
    time: new Date(hlcMs(op.hlc)).toISOString(),
    node: nodeOf(op.origin),
    origin: op.origin,
    seq: op.seq,
    kind: KIND_NAMES[op.kind],
    path: op.path,
    ...(op.kind === Kind.Rename ? { to: op.to, entries: op.entries.length } : {}),
    ...(op.content ? { size: op.content.size } : {}),
    ...(op.kind === Kind.Symlink ? { link: op.link } : {}),
    ...(op.kind === Kind.Put || op.kind === Kind.Chmod ? { mode: `0${(op.mode & 0o7777).toString(8)}` } : {}),
  };
}

export async function runLog(a: LogArgs, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const dir = resolve(a.dir);
  const stateDir = a.state ? resolve(a.state) : join(dir, '.resonate');
  const db = new Level<string, Uint8Array>(join(stateDir, 'log'), {
    valueEncoding: 'view',
    createIfMissing: false,
  }) as unknown as Db;
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    if (/lock/i.test(cause))
      throw new StartError(`the daemon is running on ${dir}; stop it first (or use resonate status)`);
    throw new StartError(`no log in ${stateDir} (${cause.split('\n')[0]})`);
  }
  const store = await Store.open(db, { random: realEnv.random });
  try {
    const ops: Operation[] = [];
    if (a.path !== undefined) {
      for (const dot of await store.pathHistory(a.path)) {
        const logged = store.getOp(dot);
        if (logged) ops.push(logged.op);
      }
    } else {
      for await (const { op } of store.allOps()) ops.push(op);
    }
    ops.sort((x, y) => x.hlc - y.hlc || (x.origin < y.origin ? -1 : x.origin > y.origin ? 1 : x.seq - y.seq));
    for (const op of ops) {
      const r = opRecord(op);
      if (a.json) out.write(`${JSON.stringify(r)}\n`);
      else {
        const target = 'to' in r ? ` -> ${r.to}` : 'link' in r ? ` -> ${r.link}` : '';
        const size = 'size' in r ? `  ${r.size}` : '';
        out.write(
          `${r.time}  ${r.node.padEnd(12)} ${String(r.seq).padStart(6)}  ${r.kind.padEnd(7)} ${r.path}${target}${size}\n`,
        );
      }
    }
  } finally {
    await store.close();
  }
  return 0;
}
