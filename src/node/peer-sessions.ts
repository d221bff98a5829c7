// The node's side of its sessions with peers: a new link becomes a Session (replacing an
// older one to the same peer), and what a session reports goes to the part of the node it
// concerns: operations to the log and on through the append flow, block requests and
// replies to the block server and the fetcher, gossip to the cluster bookkeeping.
import type { Store } from '../log/store.ts';
import type { PeerLink } from '../net/types.ts';
import type { BlockReply, BlockRequest, Gossip, Operation } from '../proto/types.ts';
import type { Env } from '../util/env.ts';
import type { Logger } from '../util/logger.ts';
import type { Mutex } from '../util/mutex.ts';
import type { AppendFlow } from './append-flow.ts';
import type { BlockServer } from './block-server.ts';
import type { ClusterGossip } from './cluster-gossip.ts';
import type { Fetcher } from './fetcher.ts';
import { appendRemote } from './ingest.ts';
import type { LinkEvents } from './link-events.ts';
import type { Reconciler } from './reconciler.ts';
import { Session, type SessionHost } from './session.ts';

export interface PeerSessionsOptions {
  store: Store;
  logger: Logger;
  env: Env;
  /** The disk lock: remote operations are appended under it. */
  mutex: Mutex;
  /** The node's sessions by peer node id (shared with the gossip, the flow and the fetcher). */
  sessions: Map<string, Session>;
  gossip: ClusterGossip;
  linkEvents: LinkEvents;
  fetcher: Fetcher;
  blockServer: BlockServer;
  flow: AppendFlow;
  reconciler: Reconciler;
  counters: { opsRemote: number };
  stopping: () => boolean;
}

export class PeerSessions implements SessionHost {
  readonly store: Store;
  readonly logger: Logger;

  constructor(private readonly o: PeerSessionsOptions) {
    this.store = o.store;
    this.logger = o.logger;
  }

  attach(link: PeerLink): void {
    const old = this.o.sessions.get(link.peer.nodeId);
    if (old && !old.isClosed) old.close('replaced by a newer link', false);
    const s = new Session(link, this, () => this.o.env.now());
    this.o.sessions.set(link.peer.nodeId, s);
    this.o.linkEvents.churned(`link ${link.peer.nodeId}`, 'peer connected', {
      peer: link.peer.nodeId,
      address: link.peer.address,
    });
    s.start();
    this.o.gossip.greet(s);
    this.o.fetcher.onSessionOpened();
    this.o.gossip.linksChanged();
  }

  onViolation(session: Session, reason: string, violation: boolean): void {
    this.o.linkEvents.dropped(session, reason, violation);
  }

  onWelcome(_session: Session): void {
    this.o.reconciler.retryWaiting();
  }

  onClose(session: Session, reason: string): void {
    if (this.o.sessions.get(session.peerId) === session) this.o.sessions.delete(session.peerId);
    this.o.fetcher.onSessionClosed(session);
    if (!this.o.stopping()) {
      this.o.linkEvents.churned(`unlink ${session.peerId}`, 'peer disconnected', {
        peer: session.peerId,
        reason,
      });
      this.o.gossip.linksChanged();
    }
  }

  async ingestRemote(ops: { op: Operation; bytes: Uint8Array }[], from: Session): Promise<boolean> {
    // Only this replica makes operations of its own origin: a peer offering new ones is
    // lying (or replaying a wiped log), and accepting them would reuse our sequence numbers.
    const forged = ops.find(
      ({ op }) => op.origin === this.store.origin && op.seq > this.store.held(op.origin),
    );
    if (forged) {
      from.close(
        `peer sent operation ${forged.op.origin}:${forged.op.seq} of our own origin that we never made`,
      );
      return false;
    }
    const { ingested: done, gap } = await this.o.mutex.run(() =>
      appendRemote(this.store, ops, this.o.env.now()),
    );
    if (done.length) {
      this.o.counters.opsRemote += done.length;
      this.o.flow.received(done);
    }
    return gap;
  }

  serveBlock(req: BlockRequest): Promise<Uint8Array> {
    return this.o.blockServer.serve(req);
  }

  frameSent(frame: Uint8Array): void {
    this.o.blockServer.sent(frame);
  }

  onBlockReply(session: Session, reply: BlockReply): void {
    this.o.fetcher.onReply(session, reply);
  }

  onGossip(session: Session, gossip: Gossip): void {
    this.o.gossip.onGossip(session, gossip);
  }
}
