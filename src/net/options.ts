// The options of createWsTransport, their defaults, and checking them up front so that a
// bad configuration fails at start with a clear error rather than later on a connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Env, realEnv } from '../util/env.ts';
import { type Logger, silentLogger } from '../util/logger.ts';
import { type PeerAddress, parsePeerAddress } from './address.ts';
import { normalizeFingerprint, secretKey } from './auth.ts';
import type { BackoffConfig } from './dialer.ts';
import { NetError } from './errors.ts';
import { PROTOCOL_VERSION } from './handshake.ts';
import type { TlsFiles } from './server.ts';

export interface WsTransportOptions {
  nodeId: string;
  /** This replica, "<node id>~<log id>" (Hello.origin). */
  origin: string;
  /** Port to listen on; 0 picks a free one (see address()). */
  port: number;
  /** Hosts to listen on, e.g. ['127.0.0.1', '::1'] or ['::']; unavailable ones are skipped. */
  listenHosts: string[];
  /** Addresses to keep dialling: "host:port" or "[v6]:port". */
  peers?: string[];
  /** Shared secret; absent or empty = none (then only peers without one are accepted). */
  secret?: string | Uint8Array | null;
  /** Serve https/wss with this certificate and dial with wss. */
  tls?: TlsFiles | null;
  /** SHA-256 fingerprints (hex, colons optional) of the peers' certificates; requires tls. */
  peerFingerprints?: string[];
  /** Other HTTP routes on the same port; return false for 404. */
  onHttp?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Address announced to peers in Hello.listen ("" if none). */
  announce?: string;
  /** Hello.clusterSize: how many nodes this node believes are in the cluster. */
  clusterSize?: number | (() => number);
  logger?: Logger;
  env?: Env;
  /** Wire protocol version (tests); default PROTOCOL_VERSION. */
  protocol?: number;
  /** Hello and Proof must be done within this (default 5 s). */
  handshakeTimeoutMs?: number;
  /** TCP + TLS + HTTP upgrade of a dial must be done within this (default 5 s). */
  connectTimeoutMs?: number;
  /** Unauthenticated inbound connections at once (default 64). */
  maxPendingConnections?: number;
  /** Largest frame sent or accepted (default 64 MiB). */
  maxFrameBytes?: number;
  /** send() returns false above this many buffered bytes (default 8 MiB). */
  highWaterBytes?: number;
  /** drained() resolves at or below this (default 1 MiB). */
  lowWaterBytes?: number;
  /** Ping interval; a peer silent for two intervals is dropped; 0 disables (default 15 s). */
  keepaliveMs?: number;
  /** How long a probed link may stay silent before it counts as dead (default 2 s). */
  probeTimeoutMs?: number;
  /** Redial timing (defaults 100 ms doubling to 5 s; 60 s after refusals; reset after 10 s up). */
  backoff?: Partial<BackoffConfig>;
}

export const DEFAULTS = {
  handshakeTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  maxPendingConnections: 64,
  maxFrameBytes: 64 * 1024 * 1024,
  highWaterBytes: 8 * 1024 * 1024,
  lowWaterBytes: 1024 * 1024,
  keepaliveMs: 15_000,
  probeTimeoutMs: 2_000,
  backoff: { initialMs: 100, maxMs: 5_000, refusedMaxMs: 60_000, stableMs: 10_000 },
} as const;

export interface Resolved {
  env: Env;
  log: Logger;
  key: Uint8Array | null;
  pins: ReadonlySet<string> | null;
  peers: PeerAddress[];
  clusterSize: () => number;
  protocol: number;
  handshakeTimeoutMs: number;
  connectTimeoutMs: number;
  maxPendingConnections: number;
  maxFrameBytes: number;
  highWaterBytes: number;
  lowWaterBytes: number;
  keepaliveMs: number;
  probeTimeoutMs: number;
  backoff: BackoffConfig;
}

const bad = (message: string) => new NetError('ERR_BAD_OPTIONS', message);

export function resolveOptions(opts: WsTransportOptions): Resolved {
  if (!opts.nodeId) throw bad('nodeId is required');
  if (opts.peerFingerprints?.length && !opts.tls) throw bad('peerFingerprints requires tls');
  const r: Resolved = {
    env: opts.env ?? realEnv,
    log: opts.logger ?? silentLogger,
    key: secretKey(opts.secret),
    pins: opts.peerFingerprints?.length ? new Set(opts.peerFingerprints.map(normalizeFingerprint)) : null,
    peers: (opts.peers ?? []).map(parsePeerAddress),
    clusterSize:
      typeof opts.clusterSize === 'function' ? opts.clusterSize : () => Number(opts.clusterSize ?? 0),
    protocol: opts.protocol ?? PROTOCOL_VERSION,
    handshakeTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    maxPendingConnections: opts.maxPendingConnections ?? DEFAULTS.maxPendingConnections,
    maxFrameBytes: opts.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
    highWaterBytes: opts.highWaterBytes ?? DEFAULTS.highWaterBytes,
    lowWaterBytes: opts.lowWaterBytes ?? DEFAULTS.lowWaterBytes,
    keepaliveMs: opts.keepaliveMs ?? DEFAULTS.keepaliveMs,
    probeTimeoutMs: opts.probeTimeoutMs ?? DEFAULTS.probeTimeoutMs,
    backoff: { ...DEFAULTS.backoff, ...opts.backoff },
  };
  if (r.lowWaterBytes > r.highWaterBytes) throw bad('lowWaterBytes must not exceed highWaterBytes');
  if (r.maxFrameBytes < 1024) throw bad('maxFrameBytes must be at least 1 KiB');
  return r;
}
