// The simulator's network: one in-memory link per connected pair, frames encoded and
// decoded on the way (so the codec is exercised), queued until the simulator delivers
// them. Links are FIFO like TCP, but a schedule may also drop, duplicate or reorder frames,
// cut the cluster into groups and heal it. Delivery order across links comes from a seeded
// generator.
import type { PeerInfo, PeerLink } from '../../src/net/types.ts';
import { decodeFrame, encodeFrame } from '../../src/proto/codec.ts';
import type { Frame } from '../../src/proto/types.ts';

export interface Endpoint {
  index: number;
  nodeId: string;
  origin: string;
  attach(link: PeerLink): void;
}

interface InFlight {
  link: SimLink;
  bytes: Uint8Array;
}

class SimLink implements PeerLink {
  onFrame: (frame: Frame) => void = () => {};
  onClose: (reason: string) => void = () => {};
  other!: SimLink;
  closed = false;
  constructor(
    readonly net: SimNetwork,
    readonly from: number,
    readonly to: number,
    readonly peer: PeerInfo,
  ) {}
  get bufferedBytes(): number {
    return 0;
  }
  sendEncoded(bytes: Uint8Array): boolean {
    return this.send(decodeFrame(bytes));
  }

  send(frame: Frame): boolean {
    this.net.tap?.(this.from, this.to, frame);
    if (!this.closed) this.net.enqueue(this, encodeFrame(frame));
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  close(reason: string): void {
    this.net.closeLink(this, reason);
  }
}

export class SimNetwork {
  private readonly queue: InFlight[] = [];
  private readonly links = new Map<string, [SimLink, SimLink]>();
  private readonly endpoints = new Map<number, Endpoint>();
  private groups: number[][] | null = null;
  delivered = 0;
  /** Sees every frame sent, for tests that check what travels. */
  tap: ((from: number, to: number, frame: Frame) => void) | null = null;

  constructor(
    private readonly random: () => number,
    private readonly faults: { drop?: number; duplicate?: number; reorder?: number } = {},
    private readonly edges: [number, number][] | null = null,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  private key(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  private reachable(a: number, b: number): boolean {
    if (this.edges && !this.edges.some(([x, y]) => (x === a && y === b) || (x === b && y === a)))
      return false;
    if (!this.groups) return true;
    return this.groups.some((g) => g.includes(a) && g.includes(b));
  }

  /** A node (re)started: link it with everyone it can reach. */
  join(ep: Endpoint): void {
    this.endpoints.set(ep.index, ep);
    this.connectAll();
  }

  /** A node crashed: its links die without a word from it. */
  leave(index: number): void {
    this.endpoints.delete(index);
    for (const [k, [a, b]] of [...this.links]) {
      if (a.from === index || b.from === index) {
        this.links.delete(k);
        const survivor = a.from === index ? b : a;
        const dead = a.from === index ? a : b;
        dead.closed = true;
        this.dropQueued(a, b);
        if (!survivor.closed) {
          survivor.closed = true;
          survivor.onClose('peer crashed');
        }
      }
    }
  }

  partition(groups: number[][]): void {
    this.groups = groups;
    for (const [, [a]] of [...this.links]) if (!this.reachable(a.from, a.to)) this.closeLink(a, 'partition');
  }

  heal(): void {
    this.groups = null;
    this.connectAll();
  }

  private connectAll(): void {
    const ids = [...this.endpoints.keys()].sort((x, y) => x - y);
    for (const i of ids) {
      for (const j of ids) {
        if (j <= i || !this.reachable(i, j) || this.links.has(this.key(i, j))) continue;
        const a = this.endpoints.get(i)!;
        const b = this.endpoints.get(j)!;
        const info = (ep: Endpoint, outbound: boolean): PeerInfo => ({
          nodeId: ep.nodeId,
          origin: ep.origin,
          address: `sim:${ep.index}`,
          listen: '',
          clusterSize: this.endpoints.size,
          outbound,
        });
        const ab = new SimLink(this, i, j, info(b, true));
        const ba = new SimLink(this, j, i, info(a, false));
        ab.other = ba;
        ba.other = ab;
        this.links.set(this.key(i, j), [ab, ba]);
        a.attach(ab);
        b.attach(ba);
      }
    }
  }

  enqueue(link: SimLink, bytes: Uint8Array): void {
    this.queue.push({ link, bytes });
  }

  closeLink(link: SimLink, reason: string): void {
    const pair = this.links.get(this.key(link.from, link.to));
    if (!pair?.includes(link)) return;
    this.links.delete(this.key(link.from, link.to));
    this.dropQueued(pair[0], pair[1]);
    for (const l of pair) {
      if (l.closed) continue;
      l.closed = true;
      l.onClose(reason);
    }
  }

  private dropQueued(a: SimLink, b: SimLink): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i]!;
      if (q.link === a || q.link === b) this.queue.splice(i, 1);
    }
  }

  /** Deliver one frame: the oldest of a random link (FIFO per link) unless a fault says otherwise. */
  deliverOne(): boolean {
    if (this.queue.length === 0) return false;
    const linksWithFrames = [...new Set(this.queue.map((q) => q.link))];
    const link = linksWithFrames[Math.floor(this.random() * linksWithFrames.length)]!;
    let idx = this.queue.findIndex((q) => q.link === link);
    if (this.faults.reorder && this.random() < this.faults.reorder) {
      const same = this.queue.map((q, i) => [q, i] as const).filter(([q]) => q.link === link);
      idx = same[Math.floor(this.random() * same.length)]![1];
    }
    const item = this.queue[idx]!;
    const dup = this.faults.duplicate && this.random() < this.faults.duplicate;
    if (!dup) this.queue.splice(idx, 1);
    if (this.faults.drop && this.random() < this.faults.drop) return true;
    const target = item.link.other;
    if (target.closed) return true;
    this.delivered++;
    target.onFrame(decodeFrame(item.bytes));
    return true;
  }
}
