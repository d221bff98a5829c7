// Replication with one peer over one link. Each side starts by telling the other what its
// log holds (Welcome); from then on each streams the operations the other lacks, origin
// by origin and in sequence order, in bounded batches that wait for the link to drain, and
// keeps pushing as new operations are appended. A receiver that sees a gap (frames lost,
// duplicated or reordered) answers with a fresh Welcome, which rewinds the sender. Block
// requests and replies for file contents share the link, and so does cluster gossip.

import type { LoggedOp, Store } from '../log/store.ts';
import type { PeerLink } from '../net/types.ts';
import { decodeOperation } from '../proto/codec.ts';
import type { BlockReply, Clock, Dot, Frame, Gossip, Operation } from '../proto/types.ts';
import type { Logger } from '../util/logger.ts';
import { BlockRequestQueue, type BlockServing } from './block-request-queue.ts';
import { PeerContents, patchBaseReader, rebuildBatch } from './peer-contents.ts';
import { operationProblem } from './validate.ts';

export const MAX_BATCH_OPS = 512;
/** net/errors.ts CloseCode.Protocol: the dialler backs off as after a refusal. */
const PROTOCOL_CLOSE = 4012;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** What a Session asks of the node (serving blocks: see BlockServing). */
export interface SessionHost extends BlockServing {
  store: Store;
  logger: Logger;
  /** Append remote operations; resolves to true if there was a gap (some were not appended). */
  ingestRemote(ops: { op: Operation; bytes: Uint8Array }[], from: Session): Promise<boolean>;
  onBlockReply(session: Session, reply: BlockReply): void;
  onGossip(session: Session, gossip: Gossip): void;
  onWelcome(session: Session): void;
  onClose(session: Session, reason: string): void;
  /** A link is being dropped (violation: the peer broke the protocol). */
  onViolation(session: Session, reason: string, violation: boolean): void;
}

export class ProtocolError extends Error {
  readonly code = 'ERR_PROTOCOL';
}

export class Session {
  /** What the peer's log holds, as far as we know (null until its Welcome). */
  private peerHas: Record<string, number> | null = null;
  private pumping = false;
  private again = false;
  private closed = false;
  private ingesting: Promise<void> = Promise.resolve();
  private readonly blockRequests: BlockRequestQueue;
  private readonly contents: PeerContents;
  private readonly patchBase: (dot: Dot) => LoggedOp | null;
  /** The peer has everything we had when it last caught up. */
  caughtUp = false;
  lastSeenMs = 0;
  opsSent = 0;
  opsReceived = 0;

  constructor(
    readonly link: PeerLink,
    private readonly host: SessionHost,
    private readonly now: () => number,
  ) {
    this.patchBase = patchBaseReader(host.store, host.logger);
    this.contents = new PeerContents(this.patchBase);
    this.blockRequests = new BlockRequestQueue(link, host, () => this.closed);
    link.onFrame = (f) => this.onFrame(f);
    link.onClose = (reason) => {
      this.closed = true;
      host.onClose(this, reason);
    };
  }

  get peerId(): string {
    return this.link.peer.nodeId;
  }

  get peerClock(): Clock | null {
    return this.peerHas ? { vv: { ...this.peerHas }, except: [] } : null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  start(): void {
    this.send({ welcome: { logClock: this.host.store.clock() } });
  }

  send(frame: Frame): boolean {
    if (this.closed) return false;
    return this.link.send(frame);
  }

  /** Drop the link because the peer broke the protocol (logged once per peer per minute). */
  close(reason: string, violation = true): void {
    if (this.closed) return;
    this.host.onViolation(this, reason, violation);
    this.link.close(reason, violation ? PROTOCOL_CLOSE : undefined);
  }

  /**
   * Operations just appended, in order: if the peer is exactly caught up with their
   * origins, send them as they are (no read back from the log); else fall back to a pump.
   */
  offer(ops: readonly { op: Operation; bytes: Uint8Array }[]): void {
    if (ops.length === 0) return;
    const has = this.peerHas;
    if (!has || this.closed || this.pumping) {
      this.notifyAppended();
      return;
    }
    const next = { ...has };
    for (const { op } of ops) {
      if ((next[op.origin] ?? 0) !== op.seq - 1) {
        this.notifyAppended();
        return;
      }
      next[op.origin] = op.seq;
    }
    Object.assign(has, next);
    this.opsSent += ops.length;
    // Same bounds as the pump: at most MAX_BATCH_OPS operations or ~MAX_BATCH_BYTES a frame.
    let batch: LoggedOp[] = [];
    let bytes = 0;
    for (const item of ops) {
      if (batch.length >= MAX_BATCH_OPS || (bytes + item.bytes.length > MAX_BATCH_BYTES && batch.length)) {
        this.sendOps(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += item.bytes.length;
    }
    if (batch.length) this.sendOps(batch);
  }

  /** One batch of operations, long block lists patched against what the peer holds. */
  private sendOps(batch: readonly LoggedOp[]): boolean {
    const { ops, patches } = this.contents.encode(batch);
    return this.send({ ops: { ops, caughtUp: false, patches } });
  }

  /** New operations were appended locally: send what the peer lacks. */
  notifyAppended(): void {
    if (this.peerHas === null || this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.pump()
      .catch((err: unknown) => this.close(`send failed: ${String(err)}`))
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.notifyAppended();
        }
      });
  }

  private async pump(): Promise<void> {
    const { store } = this.host;
    for (;;) {
      let sent = false;
      const mine = store.clock().vv;
      for (const origin of Object.keys(mine)) {
        const has = this.peerHas;
        if (!has || this.closed) return;
        const from = has[origin] ?? 0;
        if (mine[origin]! <= from) continue;
        const ops: LoggedOp[] = [];
        let bytes = 0;
        let last = from;
        for await (const item of store.opsAfter(origin, from, MAX_BATCH_OPS)) {
          ops.push(item);
          bytes += item.bytes.length;
          last = item.op.seq;
          if (bytes >= MAX_BATCH_BYTES) break;
        }
        if (ops.length === 0) continue;
        if (this.peerHas !== has) break; // rewound meanwhile: start over with the new view
        has[origin] = last;
        this.opsSent += ops.length;
        sent = true;
        if (!this.sendOps(ops)) await this.link.drained();
      }
      if (!sent) {
        this.send({ ops: { ops: [], caughtUp: true } });
        return;
      }
    }
  }

  private onFrame(f: Frame): void {
    if (this.closed) return;
    this.lastSeenMs = this.now();
    if ('welcome' in f) {
      this.peerHas = { ...f.welcome.logClock.vv };
      for (const [o, n] of Object.entries(this.peerHas))
        if (!Number.isSafeInteger(n) || n < 0) delete this.peerHas[o];
      this.contents.restated(this.peerHas);
      this.host.onWelcome(this);
      this.notifyAppended();
    } else if ('ops' in f) {
      if (f.ops.ops.length > MAX_BATCH_OPS) {
        this.close(`batch of ${f.ops.ops.length} operations (limit ${MAX_BATCH_OPS})`);
        return;
      }
      const patches = f.ops.patches ?? [];
      const patched = new Set(patches.map((p) => p.op));
      const decoded: LoggedOp[] = [];
      for (const [i, bytes] of f.ops.ops.entries()) {
        let op: Operation;
        try {
          op = decodeOperation(bytes);
        } catch (err) {
          this.close(`undecodable operation: ${(err as Error).message}`);
          return;
        }
        // A patched operation is checked once its block list is rebuilt (rebuildBatch).
        const problem = patched.has(i) ? null : operationProblem(op);
        if (problem) {
          this.close(`invalid operation ${op.origin.slice(0, 60)}:${op.seq}: ${problem}`);
          return;
        }
        decoded.push({ op, bytes });
      }
      this.opsReceived += decoded.length;
      // The peer holds what it sends us: never send it back.
      if (this.peerHas) {
        for (const { op } of decoded)
          if ((this.peerHas[op.origin] ?? 0) < op.seq) this.peerHas[op.origin] = op.seq;
      }
      const caughtUp = f.ops.caughtUp;
      // Ingest batches one after another, in arrival order.
      this.ingesting = this.ingesting.then(async () => {
        if (this.closed) return;
        const rebuilt = rebuildBatch(decoded, patches, (dot) => this.patchBase(dot));
        if (!rebuilt.ok) {
          this.close(rebuilt.problem);
          return;
        }
        for (const { op } of rebuilt.ops) this.contents.note(op);
        const gap = rebuilt.ops.length ? await this.host.ingestRemote(rebuilt.ops, this) : false;
        if (gap || rebuilt.missingBase) this.send({ welcome: { logClock: this.host.store.clock() } });
        if (caughtUp && !rebuilt.missingBase) this.caughtUp = true;
      });
      this.ingesting.catch((err: unknown) => this.close(`cannot store operations: ${String(err)}`, false));
    } else if ('blockRequest' in f) {
      if (!this.blockRequests.add(f.blockRequest)) this.close('too many block requests queued');
    } else if ('blockReply' in f) {
      this.host.onBlockReply(this, f.blockReply);
    } else if ('gossip' in f) {
      this.host.onGossip(this, f.gossip);
    } else {
      this.close('unexpected handshake frame');
    }
  }

  /** The peer told us (gossip) what its log holds: no need to send it what it has. */
  notePeerClock(clock: Clock): void {
    if (!this.peerHas) return;
    for (const [o, n] of Object.entries(clock.vv)) if ((this.peerHas[o] ?? 0) < n) this.peerHas[o] = n;
  }

  /**
   * Anti-entropy: restate what our log holds. TCP loses nothing within a link, but the
   * simulator's links may; a peer that sent us something we never got resends it.
   */
  restate(): void {
    this.send({ welcome: { logClock: this.host.store.clock() } });
  }

  get serveLoad(): number {
    return this.blockRequests.load;
  }
}
