// Fetching blocks from peers: each request goes to one connected peer (the least busy),
// and on "missing" or a dropped link to the next one; several requests are in flight per
// peer, bounded in count and bytes so a large transfer cannot swamp a link. A request is
// one block or a run of blocks that follow each other in the file (one reply for all).
import type { Block, BlockReply } from '../proto/types.ts';
import type { Env, Timer } from '../util/env.ts';
import { type BlockFetcher, verify } from './content.ts';
import type { Session } from './session.ts';

interface Pending {
  /** One block, or a run of them back to back from blocks[0].offset. */
  blocks: readonly Block[];
  bytes: number;
  pathHint: string;
  tried: Set<Session>;
  resolve: (data: Uint8Array | null) => void;
  session: Session | null;
}

/**
 * A peer with requests outstanding that sends no reply at all for this long is stalled: its
 * requests go to other peers (or fail as unavailable). Measured from its last reply, not
 * per request, so a slow link with a long queue is not mistaken for a dead one.
 */
export const STALL_MS = 15_000;

const MAX_REQUESTS_PER_PEER = 128;
/**
 * A reply refills its peer's requests only once half of them are answered, so they leave in
 * bursts (one socket write each, as the link corks a turn's frames) rather than one write and
 * one wake-up of the peer per block: 8,000 of them for a 512 MiB file.
 */
const REFILL_AT = MAX_REQUESTS_PER_PEER / 2;
const MAX_BYTES_PER_PEER = 64 * 1024 * 1024;

export class Fetcher implements BlockFetcher {
  private nextId = 1;
  private readonly inFlight = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private readonly load = new Map<Session, { requests: number; bytes: number }>();

  constructor(
    private readonly sessions: () => Iterable<Session>,
    private readonly env: Env,
  ) {}

  fetch(block: Block, pathHint: string): Promise<Uint8Array | null> {
    return this.request([block], pathHint);
  }

  fetchRun(blocks: readonly Block[], pathHint: string): Promise<Uint8Array | null> {
    return this.request(blocks, pathHint);
  }

  private request(blocks: readonly Block[], pathHint: string): Promise<Uint8Array | null> {
    let bytes = 0;
    for (const b of blocks) bytes += b.length;
    return new Promise((resolve) => {
      this.queue.push({ blocks, bytes, pathHint, tried: new Set(), resolve, session: null });
      this.dispatch();
    });
  }

  get pending(): number {
    return this.inFlight.size + this.queue.length;
  }

  onReply(session: Session, reply: BlockReply): void {
    const p = this.inFlight.get(reply.id);
    if (!p || p.session !== session) return; // stale or forged id: ignore
    this.inFlight.delete(reply.id);
    this.lastReply.set(session, this.env.now());
    this.release(session, p.bytes);
    // A reply that does not match the hash (a changed file, or a lying peer) counts as
    // missing there: the next peer is asked.
    if (reply.missing || !verifyAll(reply.data, p.blocks)) {
      this.queue.unshift(p);
    } else {
      p.resolve(reply.data);
      if ((this.load.get(session)?.requests ?? 0) > REFILL_AT) return;
    }
    this.dispatch();
  }

  /** A link went away: its requests go elsewhere. */
  onSessionClosed(session: Session): void {
    for (const [id, p] of this.inFlight) {
      if (p.session !== session) continue;
      this.inFlight.delete(id);
      this.queue.unshift(p);
    }
    this.load.delete(session);
    this.lastReply.delete(session);
    this.dispatch();
  }

  /** A new link: requests that found nothing so far may try it. */
  onSessionOpened(): void {
    this.dispatch();
  }

  private readonly lastReply = new Map<Session, number>();
  private watchdog: Timer | null = null;

  private armWatchdog(): void {
    if (this.watchdog || this.inFlight.size === 0) return;
    this.watchdog = this.env.setTimer(STALL_MS / 3, () => {
      this.watchdog = null;
      this.checkStalls();
      this.armWatchdog();
    });
  }

  /** Requests held by a peer that has gone silent go elsewhere (it counts as tried). */
  private checkStalls(): void {
    const now = this.env.now();
    const stalled = new Set<Session>();
    for (const p of this.inFlight.values()) {
      const s = p.session;
      if (s && now - (this.lastReply.get(s) ?? now) >= STALL_MS) stalled.add(s);
    }
    if (stalled.size === 0) return;
    for (const [id, p] of this.inFlight) {
      if (!p.session || !stalled.has(p.session)) continue;
      this.inFlight.delete(id);
      this.release(p.session, p.bytes);
      this.queue.unshift(p);
    }
    for (const s of stalled) this.lastReply.delete(s);
    this.dispatch();
  }

  private release(session: Session, bytes: number): void {
    const l = this.load.get(session);
    if (!l) return;
    l.requests--;
    l.bytes -= bytes;
  }

  private hasRoom(s: Session, bytes = 1): boolean {
    const l = this.load.get(s);
    return !l || (l.requests < MAX_REQUESTS_PER_PEER && l.bytes + bytes <= MAX_BYTES_PER_PEER);
  }

  private dispatch(): void {
    const live = [...this.sessions()].filter((s) => !s.isClosed);
    for (let i = 0; i < this.queue.length; ) {
      // Every link is full: nothing more can go out now (each reply calls dispatch again).
      // Without this, a long queue was scanned once per reply: quadratic in a big transfer.
      if (live.length > 0 && !live.some((s) => this.hasRoom(s))) break;
      const p = this.queue[i]!;
      const candidates = live.filter((s) => !p.tried.has(s));
      if (candidates.length === 0) {
        this.queue.splice(i, 1);
        p.resolve(null); // nobody has it
        continue;
      }
      const target = candidates
        .map((s) => ({ s, l: this.load.get(s) ?? { requests: 0, bytes: 0 } }))
        .filter(({ l }) => l.requests < MAX_REQUESTS_PER_PEER && l.bytes + p.bytes <= MAX_BYTES_PER_PEER)
        .sort((a, b) => a.l.requests - b.l.requests)[0];
      if (!target) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      const id = this.nextId++ >>> 0 || this.nextId++;
      p.tried.add(target.s);
      p.session = target.s;
      this.inFlight.set(id, p);
      if (!this.lastReply.has(target.s)) this.lastReply.set(target.s, this.env.now());
      this.armWatchdog();
      const l = this.load.get(target.s) ?? { requests: 0, bytes: 0 };
      l.requests++;
      l.bytes += p.bytes;
      this.load.set(target.s, l);
      const run = p.blocks.length > 1;
      target.s.send({
        blockRequest: {
          id,
          hash: run ? Buffer.concat(p.blocks.map((b) => b.hash)) : p.blocks[0]!.hash,
          pathHint: p.pathHint,
          offsetHint: p.blocks[0]!.offset,
          length: p.bytes,
          runLengths: run ? p.blocks.map((b) => b.length) : [],
        },
      });
    }
  }
}

/** `data` is exactly `blocks` back to back, each matching its hash. */
function verifyAll(data: Uint8Array, blocks: readonly Block[]): boolean {
  let at = 0;
  for (const b of blocks) {
    if (at + b.length > data.length || !verify(data.subarray(at, at + b.length), b)) return false;
    at += b.length;
  }
  return at === data.length;
}
