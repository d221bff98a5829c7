// Command-line parsing: node's own util.parseArgs, after turning the original single-dash
// long form (`-dir D -port P -peer H:P`) into the double-dash one. Every problem becomes a
// UsageError with a one-line message; main() prints it and exits 2.
import { parseArgs } from 'node:util';
import { validNodeId } from '../log/log-identity.ts';
import { LEVELS, type Level } from '../util/logger.ts';

export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

const DAEMON_OPTIONS = {
  dir: { type: 'string' },
  port: { type: 'string' },
  peer: { type: 'string', multiple: true },
  cluster: { type: 'string', multiple: true },
  listen: { type: 'string' },
  'node-id': { type: 'string' },
  state: { type: 'string' },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
  insecure: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'peer-fingerprint': { type: 'string', multiple: true },
  watcher: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const STATUS_OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  json: { type: 'boolean' },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOG_OPTIONS = {
  dir: { type: 'string' },
  state: { type: 'string' },
  path: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** `-dir x` → `--dir x` for every long option name the command knows. */
export function normalizeDashes(argv: readonly string[], spec: Spec): string[] {
  return argv.map((a) => {
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(a);
    if (!m) return a;
    if (!(m[1]! in spec)) throw new UsageError(`unknown option ${a.split('=')[0]}`);
    return `-${a}`;
  });
}

function parse<S extends Spec>(argv: readonly string[], spec: S) {
  const args = normalizeDashes(argv, spec);
  try {
    return parseArgs({ args, options: spec, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
  }
}

export function parsePort(text: string | undefined, what = '--port'): number {
  if (text === undefined) throw new UsageError(`${what} is required`);
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw new UsageError(`${what}: not a port number: ${text}`);
  return Number(text);
}

/** `--peer a:1 --peer b:2,c:3` → ['a:1', 'b:2', 'c:3']. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

export interface DaemonArgs {
  command: 'daemon';
  dir: string;
  port: number;
  peers: string[];
  cluster: string[];
  listen: string | null;
  nodeId: string | undefined;
  state: string | undefined;
  secret: string | undefined;
  secretFile: string | undefined;
  insecure: boolean;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  fingerprints: string[];
  watcher: 'auto' | 'chokidar' | 'native';
  logLevel: Level;
  logJson: boolean;
}

export interface StatusArgs {
  command: 'status';
  host: string;
  port: number;
  json: boolean;
  secret: string | undefined;
  secretFile: string | undefined;
}

export interface LogArgs {
  command: 'log';
  dir: string;
  state: string | undefined;
  path: string | undefined;
  json: boolean;
}

export type Args =
  | DaemonArgs
  | StatusArgs
  | LogArgs
  | { command: 'help'; topic: string }
  | { command: 'version' };

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Args {
  const [first, ...rest] = argv;
  if (first === 'status') {
    const { values: v } = parse(rest, STATUS_OPTIONS);
    if (v.help) return { command: 'help', topic: 'status' };
    return {
      command: 'status',
      host: v.host ?? '127.0.0.1',
      port: parsePort(v.port),
      json: v.json === true,
      secret: v.secret ?? env.RESONATE_SECRET,
      secretFile: v['secret-file'],
    };
  }
  if (first === 'log') {
    const { values: v } = parse(rest, LOG_OPTIONS);
    if (v.help) return { command: 'help', topic: 'log' };
    if (!v.dir) throw new UsageError('--dir is required');
    return { command: 'log', dir: v.dir, state: v.state, path: v.path, json: v.json === true };
  }
  if (first === 'help' || first === '--help' || first === '-h' || first === '-help') {
    return { command: 'help', topic: rest[0] ?? '' };
  }
  const daemonArgv = first === 'daemon' ? rest : argv;
  const { values: v } = parse(daemonArgv, DAEMON_OPTIONS);
  if (v.help) return { command: 'help', topic: '' };
  if (v.version) return { command: 'version' };
  if (!v.dir) throw new UsageError('--dir is required (the folder to sync); see resonate --help');
  const port = parsePort(v.port);
  const nodeId = v['node-id'];
  if (nodeId !== undefined && !validNodeId(nodeId)) {
    throw new UsageError(`--node-id: invalid ${JSON.stringify(nodeId)} (1-32 of A-Z a-z 0-9 _ . -)`);
  }
  const level = (v['log-level'] ?? env.RESONATE_LOG_LEVEL ?? 'info') as Level;
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level: one of ${LEVELS.join(', ')}`);
  const format = v['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError('--log-format: text or json');
  const watcher = v.watcher ?? 'auto';
  if (watcher !== 'auto' && watcher !== 'chokidar' && watcher !== 'native') {
    throw new UsageError('--watcher: auto, chokidar or native');
  }
  if (!!v['tls-cert'] !== !!v['tls-key']) throw new UsageError('--tls-cert and --tls-key go together');
  if (v.secret !== undefined && v['secret-file'] !== undefined) {
    throw new UsageError('--secret and --secret-file: give one of them');
  }
  return {
    command: 'daemon',
    dir: v.dir,
    port,
    peers: splitList(v.peer),
    cluster: splitList(v.cluster),
    listen: v.listen ?? null,
    nodeId,
    state: v.state,
    secret: v.secret ?? (v['secret-file'] ? undefined : env.RESONATE_SECRET),
    secretFile: v['secret-file'],
    insecure: v.insecure === true,
    tlsCert: v['tls-cert'],
    tlsKey: v['tls-key'],
    fingerprints: splitList(v['peer-fingerprint']),
    watcher,
    logLevel: level,
    logJson: format === 'json',
  };
}
