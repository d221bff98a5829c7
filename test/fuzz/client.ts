// A hostile peer that speaks the handshake correctly (it may know the secret) and then
// sends whatever it likes. It answers the daemon's block requests by a policy of its
// choosing (right bytes, wrong bytes, "missing", or silence), and can fence its input with
// a barrier: a block request for a hash nobody has, whose "missing" reply proves the
// daemon has read everything sent before it.
import { randomBytes } from 'node:crypto';
import { secretKey } from '../../src/net/auth.ts';
import { Handshake, PROTOCOL_VERSION } from '../../src/net/handshake.ts';
import { decodeFrame, encodeFrame, encodeOperation } from '../../src/proto/codec.ts';
import type { BlockReply, BlockRequest, Clock, Frame, Hello } from '../../src/proto/types.ts';
import { RawWs, type RawWsOptions, type WsClosed } from './wsraw.ts';

export type BlockAnswer = 'right' | 'wrong' | 'missing' | 'silent';

export interface PeerOptions {
  host: string;
  port: number;
  secret: string | null;
  nodeId: string;
  origin?: string;
  localAddress?: string;
  timeoutMs?: number;
  /** How to answer a block request of the daemon (default: "missing"). */
  answer?: (req: BlockRequest) => BlockAnswer;
  /** Bytes we can serve, by hex SHA-256. */
  known?: Map<string, Uint8Array>;
}

export class HandshakeRefused extends Error {
  constructor(readonly closed: WsClosed) {
    super(`handshake refused: ${closed.code ?? 'no code'} ${closed.reason}`);
  }
}

const BARRIER_BASE = 0x7f000000;
/** First byte of an encoded Frame whose body is field 4 (ops) or 7 (gossip), length-delimited. */
const OPS_TAG = (4 << 3) | 2;
const GOSSIP_TAG = (7 << 3) | 2;

/** A valid operation far ahead of its origin's log: the daemon stores nothing and answers the gap with a Welcome. */
const PROBE = encodeOperation({
  format: 1,
  origin: 'probe~zzzzzzzz',
  seq: 1_000_000_000,
  clock: { vv: { 'probe~zzzzzzzz': 1_000_000_000 }, except: [] },
  hlc: 0,
  path: 'probe',
  kind: 3,
  mode: 0o755,
  mtimeMs: 0,
  content: null,
  link: '',
  to: '',
  entries: [],
});

export class FuzzPeer {
  /** The daemon's Hello (its node id and origin). */
  hello!: Hello;
  /** The daemon's log clock from its latest Welcome (null before the first). */
  welcome: Clock | null = null;
  welcomes = 0;
  /** Everything the daemon sent after the handshake, by kind. */
  readonly counts = { welcome: 0, ops: 0, blockRequest: 0, blockReply: 0, gossip: 0, undecodable: 0 };
  /** Hashes (hex) of blocks the daemon asked us for. */
  readonly requested = new Set<string>();
  onWelcome: ((c: Clock) => void) | null = null;
  onFrame: ((f: Frame) => void) | null = null;
  private barrierSeq = 0;
  private readonly barriers = new Map<number, () => void>();
  private welcomeWaiters: (() => void)[] = [];
  private readonly silent: BlockRequest[] = [];
  private wrongs = 0;

  private constructor(
    readonly ws: RawWs,
    private readonly o: PeerOptions,
  ) {}

  /** Connect and authenticate; rejects with HandshakeRefused if the daemon refuses us. */
  static async connect(o: PeerOptions): Promise<FuzzPeer> {
    const wsOpts: RawWsOptions = { host: o.host, port: o.port, timeoutMs: o.timeoutMs ?? 5_000 };
    if (o.localAddress) wsOpts.localAddress = o.localAddress;
    const ws = await RawWs.connect(wsOpts);
    const peer = new FuzzPeer(ws, o);
    await peer.handshake();
    return peer;
  }

  /** A Handshake state machine for a dialler with our identity (shared with pre-auth inputs). */
  static handshakeFor(o: Pick<PeerOptions, 'nodeId' | 'origin' | 'secret'>, protocol = PROTOCOL_VERSION) {
    return new Handshake(
      {
        nodeId: o.nodeId,
        origin: o.origin ?? `${o.nodeId}~fuzzfuzz`,
        instance: randomBytes(16),
        announce: '',
        clusterSize: () => 2,
        protocol,
        key: secretKey(o.secret),
      },
      true,
      randomBytes(32),
    );
  }

  private async handshake(): Promise<void> {
    const hs = FuzzPeer.handshakeFor(this.o);
    this.ws.send(hs.helloFrame);
    const deadline = Date.now() + (this.o.timeoutMs ?? 5_000);
    for (;;) {
      const m = await this.ws.next(Math.max(1, deadline - Date.now()));
      if (!m) {
        const closed = await this.ws.waitClosed(Math.max(1, deadline - Date.now()));
        this.ws.destroy();
        throw new HandshakeRefused(closed ?? { code: null, reason: 'handshake timed out' });
      }
      // Remember the daemon's Hello before the state machine consumes it.
      try {
        const f = decodeFrame(m.data);
        if ('hello' in f) this.hello = f.hello;
      } catch {
        // the state machine reports it
      }
      const step = hs.receive(m.data);
      if (step.kind === 'send') this.ws.send(step.frame);
      else if (step.kind === 'refuse') {
        this.ws.destroy();
        throw new HandshakeRefused({ code: null, reason: `we refused the daemon: ${step.refusal.reason}` });
      } else if (step.kind === 'verified') break;
    }
    // Everything after this point goes to onData.
    this.ws.onMessage = (msg) => this.onMessage(msg.data);
    for (let m = await this.ws.next(0); m; m = await this.ws.next(0)) this.onMessage(m.data);
  }

  get closed(): Promise<WsClosed> {
    return this.ws.closed;
  }

  get isClosed(): boolean {
    return this.ws.isClosed;
  }

  send(frame: Frame): void {
    this.ws.send(encodeFrame(frame));
  }

  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  /**
   * Resolves true once the daemon has handled everything sent before (it answered a block
   * request for a hash nobody has), false if the link closed or timeoutMs passed first.
   */
  async barrier(timeoutMs = 10_000): Promise<boolean> {
    if (this.isClosed) return false;
    const id = BARRIER_BASE + (this.barrierSeq++ % 0xffffff);
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<boolean>((resolve) => {
      this.barriers.set(id, () => resolve(true));
      timer = setTimeout(() => resolve(false), timeoutMs);
      void this.ws.closed.then(() => resolve(false));
    });
    this.send({
      blockRequest: { id, hash: randomBytes(32), pathHint: '', offsetHint: 0, length: 1, runLengths: [] },
    });
    const ok = await answered;
    clearTimeout(timer);
    this.barriers.delete(id);
    return ok;
  }

  /**
   * Resolves true once the daemon has stored (or refused) every operation sent before: it
   * answers a gap with a Welcome only after the batches before it went through its log.
   */
  async settled(timeoutMs = 10_000): Promise<boolean> {
    if (this.isClosed) return false;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<boolean>((resolve) => {
      this.welcomeWaiters.push(() => resolve(true));
      timer = setTimeout(() => resolve(false), timeoutMs);
      void this.ws.closed.then(() => resolve(false));
    });
    this.send({ ops: { ops: [PROBE], caughtUp: false } });
    const ok = await answered;
    clearTimeout(timer);
    return ok;
  }

  /** Answer the requests we kept silent on ("missing" unless told otherwise). */
  releaseSilent(answer: Exclude<BlockAnswer, 'silent'> = 'missing'): void {
    for (const r of this.silent.splice(0)) this.answerRequest(r, answer);
  }

  close(): void {
    this.ws.close();
  }

  destroy(): void {
    this.ws.destroy();
  }

  private reply(r: BlockReply): void {
    if (!this.isClosed) this.send({ blockReply: r });
  }

  private onMessage(data: Buffer): void {
    // The daemon's operation batches and gossip are only counted: decoding them all would
    // cost this process more than the daemon spends on the input that caused them.
    if (!this.onFrame && (data[0] === OPS_TAG || data[0] === GOSSIP_TAG)) {
      if (data[0] === OPS_TAG) this.counts.ops++;
      else this.counts.gossip++;
      return;
    }
    let f: Frame;
    try {
      f = decodeFrame(data);
    } catch {
      this.counts.undecodable++;
      return;
    }
    this.onFrame?.(f);
    if ('welcome' in f) {
      this.counts.welcome++;
      this.welcome = f.welcome.logClock;
      this.welcomes++;
      this.onWelcome?.(f.welcome.logClock);
      for (const w of this.welcomeWaiters.splice(0)) w();
    } else if ('ops' in f) {
      this.counts.ops++;
    } else if ('blockReply' in f) {
      this.counts.blockReply++;
      this.barriers.get(f.blockReply.id)?.();
    } else if ('gossip' in f) {
      this.counts.gossip++;
    } else if ('blockRequest' in f) {
      this.counts.blockRequest++;
      this.onBlockRequest(f.blockRequest);
    }
  }

  private onBlockRequest(req: BlockRequest): void {
    this.requested.add(Buffer.from(req.hash).toString('hex'));
    this.answerRequest(req, this.o.answer?.(req) ?? 'missing');
  }

  private answerRequest(req: BlockRequest, answer: BlockAnswer): void {
    const data = this.o.known?.get(Buffer.from(req.hash).toString('hex'));
    if (answer === 'silent') {
      this.silent.push(req);
    } else if (answer === 'right' && data) {
      this.reply({ id: req.id, data, missing: false });
    } else if (answer === 'wrong') {
      // Bytes of the right length that do not match the hash, or of a wrong length.
      const len = req.length > 0 && req.length <= 1 << 20 ? req.length : 16;
      const junk = randomBytes(this.wrongs++ % 5 === 4 ? len + 1 : len);
      this.reply({ id: req.id, data: junk, missing: false });
    } else {
      this.reply({ id: req.id, data: new Uint8Array(0), missing: true });
    }
  }
}
