// `resonate --dir D --port P --peer H:P`: check the configuration, open the log, listen,
// scan, and keep the folder in sync until SIGINT/SIGTERM, then shut down cleanly (exit 0).
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { DiskFs, removeStaleTemps } from '../fs/disk.ts';
import { FaultyFs } from '../fs/faulty.ts';
import { createWatcher } from '../fs/watcher/index.ts';
import { K } from '../log/keys.ts';
import { Store } from '../log/store.ts';
import type { Db } from '../log/store-db.ts';
import { createWsTransport, type WsTransport } from '../net/transport.ts';
import type { PeerLink } from '../net/types.ts';
import { Node } from '../node/node.ts';
import { warmCodecs } from '../proto/codec.ts';
import type { Frame } from '../proto/types.ts';
import { realEnv } from '../util/env.ts';
import { createLogger, type Logger } from '../util/logger.ts';
import { type DaemonArgs, UsageError } from './args.ts';
import { diskMarker } from './marker.ts';
import { ScanReporter } from './progress.ts';
import { createStatusRoute } from './status-route.ts';

/** A configuration or environment problem: one line, exit 1. */
export class StartError extends Error {
  readonly code = 'ERR_START';
}

const LOOPBACK = ['127.0.0.1', '::1'];
const isLoopback = (h: string) => h === 'localhost' || h === '::1' || h.startsWith('127.');

function prepareFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StartError(
      `cannot use folder ${dir}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`,
    );
  }
}

function readSecret(a: DaemonArgs): string | null {
  if (a.secretFile) {
    try {
      return readFileSync(a.secretFile, 'utf8').trim() || null;
    } catch (err) {
      throw new StartError(`cannot read --secret-file ${a.secretFile}: ${(err as Error).message}`);
    }
  }
  return a.secret?.trim() || null;
}

function listenHosts(a: DaemonArgs, secret: string | null, log: Logger): string[] {
  if (a.listen) {
    if (!secret && !isLoopback(a.listen) && !a.insecure) {
      throw new UsageError(`listening on ${a.listen} without a secret needs --insecure (or set --secret)`);
    }
    return [a.listen];
  }
  // '::' takes IPv4 too on dual-stack Linux; the caller falls back to 0.0.0.0 without IPv6.
  if (secret || a.insecure) return ['::'];
  log.warn(
    'no cluster secret: listening on loopback only (set --secret or RESONATE_SECRET to sync across machines)',
  );
  return LOOPBACK;
}

async function openStore(stateDir: string, nodeId: string | undefined): Promise<Store> {
  mkdirSync(stateDir, { recursive: true });
  const db = new Level<string, Uint8Array>(join(stateDir, 'log'), { valueEncoding: 'view' }) as unknown as Db;
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    if (/lock/i.test(cause)) throw new StartError(`another resonate is already using ${stateDir}`);
    throw new StartError(`cannot open the log in ${stateDir}: ${cause}`);
  }
  return Store.open(db, { nodeId, random: realEnv.random });
}

async function countIndexed(store: Store): Promise<number> {
  let n = 0;
  for await (const _ of store.db.keys({ ...K.allFiles, limit: 200_000 })) n++;
  return n;
}

export async function runDaemon(a: DaemonArgs, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const log = createLogger({ level: a.logLevel, json: a.logJson });
  const dir = resolve(a.dir);
  prepareFolder(dir);
  const stateDir = a.state ? resolve(a.state) : join(dir, '.resonate');
  const secret = readSecret(a);
  const hosts = listenHosts(a, secret, log);
  const tls = a.tlsCert && a.tlsKey ? { cert: readFileSync(a.tlsCert), key: readFileSync(a.tlsKey) } : null;
  if (a.fingerprints.length && !tls)
    throw new UsageError('--peer-fingerprint needs --tls-cert and --tls-key');
  const store = await openStore(stateDir, a.nodeId);
  const logger = log;
  const disk = new DiskFs(dir);
  const fs = process.env.RESONATE_FAULTS ? FaultyFs.fromEnv(disk, process.env.RESONATE_FAULTS) : disk;
  const clusterSize = Math.max(a.cluster.length, a.peers.length + 1);
  const indexed = await countIndexed(store);

  let node: Node | null = null;
  let transport: WsTransport;
  const statusRoute = createStatusRoute({
    node: () => node,
    transport: () => transport,
    folder: dir,
    secret,
    clusterSize,
  });
  const listen = async (listenHosts: string[]) =>
    createWsTransport({
      nodeId: store.nodeId,
      origin: store.origin,
      port: a.port,
      listenHosts,
      peers: a.peers,
      secret,
      tls,
      peerFingerprints: a.fingerprints,
      onHttp: statusRoute,
      clusterSize,
      logger: log.child({ part: 'net' }),
    });
  try {
    try {
      transport = await listen(hosts);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_PORT_IN_USE' || hosts[0] !== '::') throw err;
      transport = await listen(['0.0.0.0']); // no IPv6 on this machine
    }
  } catch (err) {
    await store.close();
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_PORT_IN_USE') throw new StartError(`port ${a.port} is already in use`);
    throw new StartError(e.message ?? String(err));
  }
  // Peers may link while the start-up scan runs: keep their frames until the node takes over.
  const pending: { link: PeerLink; frames: Frame[]; closed: boolean }[] = [];
  transport.onLink = (link) => {
    const held = { link, frames: [] as Frame[], closed: false };
    link.onFrame = (f) => held.frames.push(f);
    link.onClose = () => {
      held.closed = true;
    };
    pending.push(held);
  };

  const addr = transport.address();
  out.write(
    `resonate ${store.nodeId}: folder ${dir}, listening on ${addr.hosts.join(',')}:${addr.port}${addr.tls ? ' (tls)' : ''}, peers ${a.peers.length ? a.peers.join(',') : 'none'}\n`,
  );

  const reporter = new ScanReporter(logger);
  const started = Date.now();
  node = new Node({
    store,
    fs,
    env: realEnv,
    logger,
    clusterSize,
    listen: `${addr.hosts[0] ?? '127.0.0.1'}:${addr.port}`,
    // Tests shorten the gossip/anti-entropy period to see membership changes quickly.
    antiEntropyMs: Number(process.env.RESONATE_GOSSIP_MS) || undefined,
    marker: diskMarker(dir),
    cleanTemps: async () => (await removeStaleTemps(disk)).length,
    onScanProgress: (p) => reporter.update(p),
    watch: (onEvents, ignore) =>
      createWatcher(a.watcher, {
        root: dir,
        ignored: (p, isDir) => ignore().ignores(p, isDir),
        onEvents,
        onError: (err) => logger.warn('watcher problem', { error: err.message }),
        expectedEntries: indexed,
      }),
  });
  const stopped = new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn('second signal: exiting now', { signal });
        process.exit(1);
      }
      stopping = true;
      logger.info('shutting down', { signal });
      (async () => {
        await node?.stop();
        await transport.close();
        await store.close();
        logger.info('stopped cleanly');
        resolveExit(0);
      })().catch((err: unknown) => {
        logger.error('shutdown failed', { error: String(err) });
        resolveExit(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  warmCodecs();
  try {
    await node.start();
  } catch (err) {
    await transport.close().catch(() => {});
    await store.close().catch(() => {});
    throw new StartError(`cannot start: ${(err as Error).message}`);
  }
  reporter.done();
  const scanned = node.scanResult;
  logger.info('ready', {
    entries: scanned?.entries,
    recorded: scanned?.operations,
    ms: Date.now() - started,
  });
  transport.onLink = (link) => node?.attach(link);
  for (const held of pending.splice(0)) {
    if (held.closed) continue;
    node.attach(held.link);
    for (const f of held.frames) held.link.onFrame(f);
  }
  return stopped;
}
