// At most one link per peer node. When both nodes dial each other at once, each ends up
// with two authenticated connections to the other; both must keep the same one, decided
// from facts both sides know: prefer the connection dialled by the smaller node id, and
// between two dialled by the same node, the one with the smaller dialler nonce. The loser
// is closed as a duplicate, which is routine (no backoff).
//
// A link from a *different process* (another instance id) under a node id we are already
// linked to is either that node restarted while its old connection is not yet known dead,
// or a second machine misconfigured with the same id. We refuse the newcomer and probe the
// old link: if it is dead it goes within seconds and the newcomer's next attempt succeeds.
import { CloseCode } from './errors.ts';
import type { WsLink } from './link.ts';

export type Admission =
  | { ok: true; replaced: WsLink | null }
  | { ok: false; code: CloseCode; reason: string; holder: WsLink };

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export class Registry {
  private readonly links = new Map<string, WsLink>();
  private readonly goneListeners: ((nodeId: string) => void)[] = [];

  constructor(private readonly ourNodeId: string) {}

  get(nodeId: string): WsLink | undefined {
    return this.links.get(nodeId);
  }

  has(nodeId: string): boolean {
    return this.links.has(nodeId);
  }

  all(): WsLink[] {
    return [...this.links.values()];
  }

  /** Called when a node has no link any more. */
  onGone(fn: (nodeId: string) => void): void {
    this.goneListeners.push(fn);
  }

  /** Decide whether a freshly authenticated link becomes the link to its node. */
  admit(link: WsLink): Admission {
    const nodeId = link.peer.nodeId;
    const held = this.links.get(nodeId);
    if (!held) {
      this.links.set(nodeId, link);
      return { ok: true, replaced: null };
    }
    if (!sameBytes(held.instance, link.instance)) {
      return {
        ok: false,
        code: CloseCode.NodeIdInUse,
        reason: `node id ${nodeId} is already linked from another process (${held.peer.address})`,
        holder: held,
      };
    }
    if (this.rank(link, held) < 0) {
      this.links.set(nodeId, link);
      return { ok: true, replaced: held };
    }
    return {
      ok: false,
      code: CloseCode.Duplicate,
      reason: 'duplicate link: another connection won',
      holder: held,
    };
  }

  /** Forget a link that ended; no-op if it is not the current one. */
  remove(link: WsLink): void {
    const nodeId = link.peer.nodeId;
    if (this.links.get(nodeId) !== link) return;
    this.links.delete(nodeId);
    for (const fn of this.goneListeners) fn(nodeId);
  }

  /** Negative if `a` is preferred over `b` (both between the same two processes). */
  private rank(a: WsLink, b: WsLink): number {
    const byDialer = this.dialledBySmaller(a) - this.dialledBySmaller(b);
    if (byDialer !== 0) return -byDialer;
    return Buffer.compare(a.dialerNonce, b.dialerNonce);
  }

  private dialledBySmaller(link: WsLink): number {
    const dialer = link.peer.outbound ? this.ourNodeId : link.peer.nodeId;
    const other = link.peer.outbound ? link.peer.nodeId : this.ourNodeId;
    return dialer < other ? 1 : 0;
  }
}
