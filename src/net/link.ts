// One WebSocket connection from its first byte to its end: the handshake, then the
// PeerLink the core uses. A single 'message' listener serves both phases, so a frame that
// arrives in the same TCP read as the peer's proof is never lost in a hand-over.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../proto/codec.ts';
import type { Frame } from '../proto/types.ts';
import type { Env, Timer } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import { noteYoungBuffers } from '../util/young-garbage.ts';
import { channelBinding } from './auth.ts';
import { CloseCode, closeReason, NetError } from './errors.ts';
import { type Authenticated, Handshake, type LocalIdentity, type Refusal, refusal } from './handshake.ts';
import { Keepalive } from './keepalive.ts';
import { errorEnd, type LinkEnd, socketCloseEnd } from './link-end.ts';
import { LinkWriter } from './link-writer.ts';
import type { PeerInfo, PeerLink } from './types.ts';

export interface LinkConfig {
  env: Env;
  logger: Logger;
  local: LocalIdentity;
  handshakeTimeoutMs: number;
  keepaliveMs: number;
  maxFrameBytes: number;
  highWaterBytes: number;
  lowWaterBytes: number;
}

/** Bytes a peer may send before it has proven itself (a Hello and a Proof are < 1 KiB). */
const MAX_HANDSHAKE_BYTES = 256 * 1024;
/** How long a closing socket may wait for the peer's close frame. */
const CLOSE_TIMEOUT_MS = 2_000;

export interface LinkHooks {
  /**
   * Called synchronously once the peer is proven: may this become the link to its node?
   * On false the transport has closed the link (duplicate, clashing node id).
   */
  admit(link: WsLink): boolean;
  /** The link is up (and the acceptor's proof sent): hand it to the core. */
  linked(link: WsLink): void;
  /** Called once, however the connection ends. */
  ended(link: WsLink, end: LinkEnd): void;
}

const noop = () => {};

function asBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class WsLink implements PeerLink {
  peer: PeerInfo;
  onFrame: (frame: Frame) => void = noop;
  onClose: (reason: string) => void = noop;
  /** Set once the peer is verified. */
  instance: Uint8Array = new Uint8Array(0);
  dialerNonce: Uint8Array = new Uint8Array(0);
  /** Resolves when the socket is fully closed (not just the link ended). */
  readonly socketClosed: Promise<void>;

  private readonly handshake: Handshake;
  private handshakeTimer: Timer | null;
  private keepalive: Keepalive | null = null;
  /** When the link was handed to the core (-1: not yet, or never). */
  private linkedAt = -1;
  private ended = false;
  private readonly writer: LinkWriter;
  private lastError: Error | null = null;
  private handshakeBytes = 0;
  private readonly unguard: () => void;
  /** Counts signs of life: inbound messages, pongs, and write progress under backlog. */
  activity = 0;

  constructor(
    readonly ws: WebSocket,
    raw: Duplex | null,
    outbound: boolean,
    address: string,
    private readonly cfg: LinkConfig,
    private readonly hooks: LinkHooks,
  ) {
    this.peer = { nodeId: '', origin: '', address, listen: '', clusterSize: 0, outbound };
    let resolveClosed = noop;
    this.socketClosed = new Promise((r) => {
      resolveClosed = r;
    });
    this.handshake = new Handshake(cfg.local, outbound, cfg.env.random(32), channelBinding(raw));
    this.writer = new LinkWriter(ws, raw, cfg.lowWaterBytes, () => this.activity++);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.activity++);
    ws.on('ping', () => this.activity++);
    ws.on('error', (err) => this.onError(err));
    ws.on('close', (code, reason) => {
      resolveClosed();
      this.onSocketClose(code, reason.toString('utf8'));
    });
    // Bound what an unauthenticated peer can make us buffer, far below maxPayload.
    const guard = (chunk: Buffer) => {
      if (this.handshake.done) return;
      this.handshakeBytes += chunk.length;
      if (this.handshakeBytes > MAX_HANDSHAKE_BYTES) {
        this.refuse(refusal('malformed', 'too much data during the handshake'));
      }
    };
    raw?.on('data', guard);
    this.unguard = () => raw?.off('data', guard);
    this.handshakeTimer = cfg.env.setTimer(cfg.handshakeTimeoutMs, () => {
      this.handshakeTimer = null;
      this.close(`handshake not completed within ${cfg.handshakeTimeoutMs} ms`, CloseCode.HandshakeTimeout);
    });
    this.sendRaw(this.handshake.helloFrame);
  }

  get bufferedBytes(): number {
    return this.writer.pending;
  }

  get isLinked(): boolean {
    return this.linkedAt >= 0;
  }

  /** The node id the peer claimed in its Hello ("" before it arrived). */
  get claimedNodeId(): string {
    return this.peer.nodeId || this.handshake.claimedNodeId;
  }

  send(frame: Frame): boolean {
    if (this.ended) return false;
    return this.sendEncoded(encodeFrame(frame));
  }

  sendEncoded(bytes: Uint8Array, onSent?: () => void): boolean {
    if (this.ended) return false;
    if (bytes.length > this.cfg.maxFrameBytes) {
      throw new NetError(
        'ERR_FRAME_TOO_LARGE',
        `frame of ${bytes.length} bytes exceeds the limit of ${this.cfg.maxFrameBytes}`,
        { peer: this.peer.nodeId || this.peer.address },
      );
    }
    this.sendRaw(bytes, onSent);
    return this.writer.pending <= this.cfg.highWaterBytes;
  }

  drained(): Promise<void> {
    return this.writer.drained(this.ended);
  }

  close(reason: string, code: number = CloseCode.Normal): void {
    if (this.ended) return;
    this.closeSocket(code, reason);
    this.finish({ code, reason, by: 'local', refusal: null });
  }

  /** Send a close frame, but do not wait long for a peer that never answers it. */
  private closeSocket(code: number, reason: string): void {
    this.ws.close(code, closeReason(reason));
    const t = this.cfg.env.setTimer(CLOSE_TIMEOUT_MS, () => this.ws.terminate());
    void this.socketClosed.then(() => t.cancel());
  }

  /** Drop the connection without a closing handshake (dead or hostile peer). */
  private terminateWith(code: number, reason: string): void {
    if (this.ended) return;
    this.ws.terminate();
    this.finish({ code, reason, by: 'local', refusal: null });
  }

  /** Ask the peer to show a sign of life within timeoutMs, or drop it as dead. */
  probe(timeoutMs: number): void {
    this.keepalive?.probe(timeoutMs);
  }

  private sendRaw(bytes: Uint8Array, onSent?: () => void): void {
    this.writer.write(bytes, onSent);
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.ended) return;
    this.activity++;
    if (!isBinary) {
      this.close('text frames are not part of the protocol', CloseCode.TextFrame);
      return;
    }
    const buf = asBuffer(data);
    noteYoungBuffers(buf.length);
    if (!this.handshake.done) {
      this.onHandshakeMessage(buf);
      return;
    }
    let frame: Frame;
    try {
      frame = decodeFrame(buf);
    } catch (err) {
      this.close(`undecodable frame: ${(err as Error).message}`, CloseCode.BadFrame);
      return;
    }
    if ('hello' in frame || 'proof' in frame) {
      this.close('handshake frame after the handshake', CloseCode.BadFrame);
      return;
    }
    try {
      this.onFrame(frame);
    } catch (err) {
      // A bug in the handler must not take the daemon down; it costs this link.
      this.cfg.logger.error('frame handler threw; closing link', {
        peer: this.peer.nodeId,
        error: (err as Error).stack ?? String(err),
      });
      this.close('internal error handling a frame', CloseCode.BadFrame);
    }
  }

  private onHandshakeMessage(buf: Buffer): void {
    const step = this.handshake.receive(buf);
    if (step.kind === 'send') this.sendRaw(step.frame);
    else if (step.kind === 'refuse') this.refuse(step.refusal);
    else if (step.kind === 'verified') this.onVerified(step.peer, step.reply);
  }

  private onVerified(a: Authenticated, reply: Uint8Array | null): void {
    this.handshakeTimer?.cancel();
    this.handshakeTimer = null;
    this.unguard();
    const h = a.hello;
    this.peer = {
      ...this.peer,
      nodeId: h.nodeId,
      origin: h.origin,
      listen: h.listen,
      clusterSize: h.clusterSize,
    };
    this.instance = h.instance;
    this.dialerNonce = a.dialerNonce;
    if (!this.hooks.admit(this) || this.ended) return;
    this.linkedAt = this.cfg.env.now();
    this.keepalive = new Keepalive(this.cfg.env, this.cfg.keepaliveMs, {
      activity: () => this.activity,
      ping: () => this.ws.ping(),
      dead: (why) => this.terminateWith(CloseCode.Dead, why),
    });
    // Our proof goes out before anything the core sends on the new link.
    if (reply) this.sendRaw(reply);
    this.hooks.linked(this);
  }

  private refuse(refusal: Refusal): void {
    if (this.ended) return;
    this.closeSocket(refusal.code, refusal.wire);
    this.finish({ code: refusal.code, reason: refusal.reason, by: 'local', refusal });
  }

  private onError(err: Error): void {
    this.lastError = err;
    if (this.ended) return;
    this.finish(errorEnd(err));
  }

  private onSocketClose(code: number, reason: string): void {
    this.unguard();
    if (this.ended) return;
    this.finish(socketCloseEnd(code, reason, this.lastError));
  }

  private finish(end: Omit<LinkEnd, 'linked' | 'upMs'>): void {
    if (this.ended) return;
    this.ended = true;
    this.handshakeTimer?.cancel();
    this.handshakeTimer = null;
    this.keepalive?.stop();
    this.writer.wakeAll();
    const linked = this.isLinked;
    const upMs = linked ? this.cfg.env.now() - this.linkedAt : 0;
    this.hooks.ended(this, { ...end, linked, upMs });
    if (linked) {
      const why = end.by === 'peer' ? `closed by peer: ${end.reason}` : end.reason;
      try {
        this.onClose(why);
      } catch (err) {
        this.cfg.logger.error('onClose handler threw', { peer: this.peer.nodeId, error: String(err) });
      }
    }
  }
}
