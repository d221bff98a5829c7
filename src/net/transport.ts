// The WebSocket transport: one port for HTTP and WebSocket, a dialer for every known peer,
// the handshake on every connection, and one authenticated link per peer node handed to
// the core. This file only wires the parts together.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { type WebSocket, WebSocketServer } from 'ws';
import { parsePeerAddress, remoteOf } from './address.ts';
import { type Opening, openClient } from './client.ts';
import { Dialer, type DialStatus } from './dialer.ts';
import { CloseCode } from './errors.ts';
import { INSTANCE_BYTES } from './handshake.ts';
import { type LinkConfig, WsLink } from './link.ts';
import type { LinkEnd } from './link-end.ts';
import { LinkLog } from './link-log.ts';
import { LogLimiter } from './log-limit.ts';
import { wsMaskBackend } from './mask.ts';
import { type Resolved, resolveOptions, type WsTransportOptions } from './options.ts';
import { Registry } from './registry.ts';
import { type Listener, listen, routeHttp } from './server.ts';
import type { PeerLink, Transport } from './types.ts';
import { rejectUpgrade, UpgradeGate } from './upgrade.ts';

export type { WsTransportOptions } from './options.ts';

export interface TransportAddress {
  port: number;
  /** The hosts actually listened on (unavailable ones were skipped). */
  hosts: string[];
  tls: boolean;
}

export interface WsTransport extends Transport {
  address(): TransportAddress;
  /** Keep dialling this address too (no-op if it already is). Throws ERR_BAD_PEER_ADDRESS. */
  addPeer(addr: string): void;
  /** Stop dialling an address; an existing link stays. Returns whether it was dialled. */
  removePeer(addr: string): boolean;
  /** Each dialled address: state, node id once known, failures, last error. */
  dialStatus(): DialStatus[];
  /** The current links, at most one per peer node. */
  links(): PeerLink[];
}

/** How long close() lets links finish their closing handshake before dropping them. */
const CLOSE_GRACE_MS = 1_000;

export async function createWsTransport(opts: WsTransportOptions): Promise<WsTransport> {
  const t = new WsTransportImpl(opts, resolveOptions(opts));
  await t.start();
  for (const p of t.cfg.peers) t.addPeer(p.text);
  return t;
}

class WsTransportImpl implements WsTransport {
  onLink: (link: PeerLink) => void = (link) => {
    this.cfg.log.warn('no link handler set; closing link', { node: link.peer.nodeId });
    link.close('node not ready');
  };
  private readonly limiter: LogLimiter;
  private readonly linkLog: LinkLog;
  private readonly linkCfg: LinkConfig;
  private readonly registry: Registry;
  private readonly gate: UpgradeGate;
  private readonly wss: WebSocketServer;
  private readonly dialers = new Map<string, Dialer>();
  private readonly openings = new Map<Dialer, Opening>();
  private readonly dialerOf = new Map<WsLink, Dialer>();
  /** Every WebSocket until its 'close', with its link once it has one. */
  private readonly sockets = new Map<WebSocket, WsLink | null>();
  private allClosed: (() => void) | null = null;
  private listener: Listener | null = null;
  private closing: Promise<void> | null = null;
  /** Set synchronously when close() starts. */
  private stopping = false;

  constructor(
    private readonly opts: WsTransportOptions,
    readonly cfg: Resolved,
  ) {
    this.limiter = new LogLimiter(cfg.env);
    this.linkLog = new LinkLog(cfg.log, this.limiter);
    this.linkCfg = {
      env: cfg.env,
      logger: cfg.log,
      local: {
        nodeId: opts.nodeId,
        origin: opts.origin,
        instance: cfg.env.random(INSTANCE_BYTES),
        announce: opts.announce ?? '',
        clusterSize: cfg.clusterSize,
        protocol: cfg.protocol,
        key: cfg.key,
      },
      handshakeTimeoutMs: cfg.handshakeTimeoutMs,
      keepaliveMs: cfg.keepaliveMs,
      maxFrameBytes: cfg.maxFrameBytes,
      highWaterBytes: cfg.highWaterBytes,
      lowWaterBytes: cfg.lowWaterBytes,
    };
    this.registry = new Registry(opts.nodeId);
    this.registry.onGone((nodeId) => {
      for (const d of this.dialers.values()) d.peerGone(nodeId);
    });
    this.gate = new UpgradeGate({
      maxPending: cfg.maxPendingConnections,
      pins: cfg.pins,
      limiter: this.limiter,
      logger: cfg.log,
    });
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: cfg.maxFrameBytes,
      allowSynchronousEvents: true,
    });
  }

  async start(): Promise<void> {
    this.listener = await listen({
      port: this.opts.port,
      hosts: this.opts.listenHosts,
      tls: this.opts.tls ?? null,
      requestCert: this.cfg.pins !== null,
      logger: this.cfg.log,
      onRequest: routeHttp(this.opts.onHttp, this.cfg.log),
      onUpgrade: (req, socket, head) => this.onUpgrade(req, socket, head),
    });
    const { port, hosts } = this.listener;
    const tls = !!this.opts.tls;
    this.cfg.log.info('listening', { port, hosts: hosts.join(','), tls, wsMask: wsMaskBackend() });
  }

  address(): TransportAddress {
    return { port: this.listener?.port ?? 0, hosts: this.listener?.hosts ?? [], tls: !!this.opts.tls };
  }

  addPeer(addr: string): void {
    const target = parsePeerAddress(addr);
    if (this.stopping || this.dialers.has(target.text)) return;
    const d = new Dialer(target, {
      env: this.cfg.env,
      logger: this.cfg.log,
      limiter: this.limiter,
      ourNodeId: this.opts.nodeId,
      backoff: this.cfg.backoff,
      isLinked: (nodeId) => this.registry.has(nodeId),
      attempt: (dialer) => this.dial(dialer),
      abort: (dialer) => this.openings.get(dialer)?.cancel(),
    });
    this.dialers.set(target.text, d);
    d.start();
  }

  removePeer(addr: string): boolean {
    const key = parsePeerAddress(addr).text;
    const d = this.dialers.get(key);
    if (!d) return false;
    d.stop();
    this.dialers.delete(key);
    return true;
  }

  dialStatus(): DialStatus[] {
    return [...this.dialers.values()].map((d) => d.status());
  }

  links(): PeerLink[] {
    return this.registry.all();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    for (const d of this.dialers.values()) d.stop();
    this.dialers.clear();
    for (const [ws, link] of this.sockets) {
      if (link) link.close('shutting down', CloseCode.GoingAway);
      else ws.terminate();
    }
    if (this.sockets.size > 0) {
      const grace = this.cfg.env.setTimer(CLOSE_GRACE_MS, () => {
        for (const ws of this.sockets.keys()) ws.terminate();
      });
      await new Promise<void>((resolve) => {
        this.allClosed = resolve;
      });
      grace.cancel();
    }
    await this.listener?.close();
    this.wss.close();
  }

  private track(ws: WebSocket): void {
    this.sockets.set(ws, null);
    ws.once('close', () => {
      this.sockets.delete(ws);
      if (this.sockets.size === 0) this.allClosed?.();
    });
  }

  private dial(d: Dialer): void {
    const { env, pins, maxFrameBytes, connectTimeoutMs } = this.cfg;
    const tls = this.opts.tls ?? null;
    const opening = openClient(d.target, { env, tls, pins, maxFrameBytes, connectTimeoutMs }, (r) => {
      this.openings.delete(d);
      if (this.stopping) {
        r.ws.terminate();
      } else if (r.ok) {
        this.adopt(r.ws, r.raw, true, r.address, d);
      } else {
        const key = `out ${d.target.text} ${r.refused}`;
        if (r.refused === 'us') this.linkLog.refusal('refused peer', key, d.target.text, r.error);
        if (r.refused === 'peer') this.linkLog.refusal('peer refused us', key, d.target.text, r.error);
        d.failed(r.error, r.refused !== null);
      }
    });
    this.track(opening.ws);
    this.openings.set(d, opening);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.stopping) {
      rejectUpgrade(socket, 503, 'shutting down');
      return;
    }
    if (!this.gate.admit(req, socket as Socket | TLSSocket)) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.stopping) {
        ws.terminate();
        return;
      }
      this.track(ws);
      this.adopt(ws, socket, false, remoteOf(socket as Socket), null);
    });
  }

  private adopt(ws: WebSocket, raw: Duplex, outbound: boolean, address: string, dialer: Dialer | null): void {
    const link = new WsLink(ws, raw, outbound, address, this.linkCfg, {
      admit: (l) => this.admit(l, raw),
      linked: (l) => this.linked(l),
      ended: (l, end) => this.ended(l, end, raw),
    });
    if (this.sockets.has(ws)) this.sockets.set(ws, link);
    if (dialer) this.dialerOf.set(link, dialer);
  }

  private admit(link: WsLink, raw: Duplex): boolean {
    this.gate.release(raw);
    const adm = this.registry.admit(link);
    if (!adm.ok) {
      if (adm.code === CloseCode.NodeIdInUse) {
        const { nodeId, address } = link.peer;
        this.linkLog.refusal('refused peer', `nodeid ${nodeId}`, address, adm.reason, nodeId);
        // Perhaps the holder is the same node's previous process, dead without a FIN.
        adm.holder.probe(this.cfg.probeTimeoutMs);
      }
      link.close(adm.reason, adm.code);
      return false;
    }
    this.dialerOf.get(link)?.admitted(link.peer.nodeId);
    adm.replaced?.close('duplicate link: replaced by the preferred connection', CloseCode.Duplicate);
    return true;
  }

  private linked(link: WsLink): void {
    this.linkLog.linked(link);
    try {
      this.onLink(link);
    } catch (err) {
      this.cfg.log.error('link handler threw; closing link', { node: link.peer.nodeId, error: String(err) });
      link.close('internal error');
    }
  }

  private ended(link: WsLink, end: LinkEnd, raw: Duplex): void {
    this.gate.release(raw);
    this.registry.remove(link);
    const dialer = this.dialerOf.get(link);
    this.dialerOf.delete(link);
    this.linkLog.ended(link, end, this.stopping);
    dialer?.ended(end, link.claimedNodeId);
  }
}
