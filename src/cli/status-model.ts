// What `resonate status` reports, as one JSON object with a stable shape (version 1):
// this node, the cluster (size, majority, reachable), each member, counts, transfers.
import type { WsTransport } from '../net/transport.ts';
import type { Node } from '../node/node.ts';
import { EntryType } from '../proto/types.ts';

export interface MemberStatus {
  id: string | null;
  address: string;
  self: boolean;
  connected: boolean;
  /** Directly connected, or heard of through other members lately. */
  reachable: boolean;
  lastSeen: string | null;
  /** Operations in our log that this member does not hold yet (null: unknown). */
  behind: number | null;
}

export interface Status {
  version: 1;
  node: { id: string; origin: string; folder: string; listen: string[] };
  cluster: { size: number; quorum: number; reachable: number; majorityReachable: boolean; minority: boolean };
  members: MemberStatus[];
  counts: { files: number; bytes: number; conflicts: number; uncommitted: number; waiting: number };
  transfers: { path: string; size: number; done: number }[];
  ops: { log: number; local: number; remote: number };
}

export interface StatusSources {
  node: Node;
  transport: WsTransport;
  folder: string;
  clusterSize: number;
}

export async function buildStatus(s: StatusSources): Promise<Status> {
  const { node, transport } = s;
  const store = node.store;
  const mine = store.clock().vv;
  const behind = (vv: Record<string, number>) =>
    Object.entries(mine).reduce((sum, [o, n]) => sum + Math.max(0, n - (vv[o] ?? 0)), 0);
  const members: MemberStatus[] = [];
  const addr = transport.address();
  members.push({
    id: store.nodeId,
    address: `${addr.hosts[0] ?? ''}:${addr.port}`,
    self: true,
    connected: true,
    reachable: true,
    lastSeen: new Date().toISOString(),
    behind: 0,
  });
  const seen = new Set<string>();
  for (const d of transport.dialStatus()) {
    if (d.state === 'self') continue;
    const session = d.nodeId ? node.sessions.get(d.nodeId) : undefined;
    if (d.nodeId) seen.add(d.nodeId);
    members.push({
      id: d.nodeId,
      address: d.address,
      self: false,
      reachable: false,
      connected: !!session && !session.isClosed,
      lastSeen: session?.lastSeenMs ? new Date(session.lastSeenMs).toISOString() : null,
      behind: session?.peerClock ? behind(session.peerClock.vv) : null,
    });
  }
  for (const [id, session] of node.sessions) {
    if (seen.has(id)) continue;
    seen.add(id);
    members.push({
      id,
      address: session.link.peer.address,
      self: false,
      reachable: false,
      connected: !session.isClosed,
      lastSeen: session.lastSeenMs ? new Date(session.lastSeenMs).toISOString() : null,
      behind: session.peerClock ? behind(session.peerClock.vv) : null,
    });
  }
  // Members known only through gossip (not a direct peer: a line or partial mesh).
  for (const summary of node.members.summaries().slice(1)) {
    if (seen.has(summary.nodeId)) continue;
    seen.add(summary.nodeId);
    const heard = node.members.heardMs(summary.nodeId);
    members.push({
      id: summary.nodeId,
      address: summary.listen || '(via peers)',
      self: false,
      reachable: false,
      connected: false,
      lastSeen: heard ? new Date(heard).toISOString() : null,
      behind: behind(summary.logClock.vv),
    });
  }
  // Members we refer to by address but have not heard of yet.
  for (const m of members) if (m.id && !m.self) m.connected = m.connected || node.sessions.has(m.id);
  let files = 0;
  let bytes = 0;
  let conflicts = 0;
  for await (const [path, e] of store.files()) {
    if (e.type !== EntryType.File) continue;
    files++;
    bytes += e.size;
    if (e.headPath !== path) conflicts++;
  }
  const view = node.clusterView();
  const reachable = new Set(view.reachable);
  for (const m of members) if (m.id && reachable.has(m.id) && !m.self) m.reachable = true;
  return {
    version: 1,
    node: {
      id: store.nodeId,
      origin: store.origin,
      folder: s.folder,
      listen: addr.hosts.map((h) => (h.includes(':') ? `[${h}]:${addr.port}` : `${h}:${addr.port}`)),
    },
    cluster: {
      size: view.size,
      quorum: view.quorum,
      reachable: view.reachable.length,
      majorityReachable: view.majorityReachable,
      minority: !view.majorityReachable,
    },
    members,
    counts: { files, bytes, conflicts, uncommitted: view.uncommitted, waiting: node.waitingPaths },
    transfers: [...node.transfers.values()].map((t) => ({ path: t.path, size: t.size, done: t.done })),
    ops: {
      log: Object.values(mine).reduce((a, b) => a + b, 0),
      local: node.counters.opsLocal,
      remote: node.counters.opsRemote,
    },
  };
}
