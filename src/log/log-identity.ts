// Who a log belongs to, read (or made) when it is opened: the log's format, this node's id
// and the log's own id (together the replica's origin), the clock of what it holds and
// its hybrid clock. A new or wiped log gets a new log id, so its sequence numbers never
// collide with those of a log that existed before.
import { K, keyPath } from './keys.ts';
import { openText, sealText } from './record.ts';
import { type Db, writeOptions } from './store-db.ts';

export const LOG_FORMAT = 1;
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export class LogError extends Error {
  constructor(
    readonly code: 'ERR_LOG_FORMAT' | 'ERR_LOG_CLOSED' | 'ERR_NODE_ID',
    message: string,
  ) {
    super(message);
  }
}

export interface StoreOptions {
  /** Node id to use; default: the stored one, or a new random one. */
  nodeId?: string | undefined;
  /** Random bytes (deterministic in the simulator). */
  random: (n: number) => Uint8Array;
}

export function randomId(random: (n: number) => Uint8Array, length: number): string {
  const bytes = random(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ID_ALPHABET[bytes[i]! % ID_ALPHABET.length];
  return out;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
export function validNodeId(id: string): boolean {
  return NODE_ID.test(id);
}

export function readMeta(db: Db, name: string): string | null {
  const key = K.meta(name);
  const v = db.getSync(key);
  return v === undefined ? null : openText(key, v);
}

export interface LogIdentity {
  nodeId: string;
  logId: string;
  clock: Record<string, number>;
  hlc: number;
  /** Nothing but meta records: every other key the store reads, it writes first. */
  empty: boolean;
}

/** Open `db` as a log: check its format, settle its ids (stored, synced), read its clocks. */
export async function openLog(db: Db, opts: StoreOptions): Promise<LogIdentity> {
  if (db.status !== 'open') await db.open();
  const format = readMeta(db, 'format');
  if (format !== null && Number(format) !== LOG_FORMAT) {
    throw new LogError('ERR_LOG_FORMAT', `log format ${format} is not supported (expected ${LOG_FORMAT})`);
  }
  if (opts.nodeId !== undefined && !validNodeId(opts.nodeId)) {
    throw new LogError(
      'ERR_NODE_ID',
      `invalid node id ${JSON.stringify(opts.nodeId)}: use 1-32 of A-Z a-z 0-9 _ . -`,
    );
  }
  let logId = readMeta(db, 'log');
  let nodeId = readMeta(db, 'node');
  // Meta records are "m!..."; '"' follows '!'.
  let empty = true;
  for (const range of [{ lt: 'm!' }, { gte: 'm"' }])
    for await (const _ of db.keys({ ...range, limit: 1 })) empty = false;
  const batch: { type: 'put'; key: string; value: Uint8Array }[] = [];
  if (logId === null) {
    logId = randomId(opts.random, 8);
    batch.push({ type: 'put', key: K.meta('format'), value: sealText(String(LOG_FORMAT)) });
    batch.push({ type: 'put', key: K.meta('log'), value: sealText(logId) });
  }
  const wanted = opts.nodeId ?? nodeId ?? randomId(opts.random, 10);
  if (wanted !== nodeId) {
    nodeId = wanted;
    batch.push({ type: 'put', key: K.meta('node'), value: sealText(nodeId) });
  }
  if (batch.length) await db.batch(batch, writeOptions(true));
  const clock: Record<string, number> = {};
  for await (const [key, value] of db.iterator(K.allClocks))
    clock[keyPath(key)] = Number(openText(key, value));
  const hlc = Number(readMeta(db, 'hlc') ?? '0');
  return { nodeId, logId, clock, hlc, empty };
}
