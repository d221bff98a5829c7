// The per-connection half of proxy.ts: two FIFO directions that release chunks at their
// due time (delay without reordering), follow the link's cut mode, pass resets through,
// and count the bytes they write.
import { Socket } from 'node:net';

export type CutMode = 'reset' | 'blackhole';

/** Link-wide settings shared by every connection of one proxy. */
export interface State {
  mode: CutMode | null;
  delayMs: number;
  bytes: { up: number; down: number };
}

// Read no further while this much is queued in one direction (a delayed link must not
// buffer unboundedly: the sender should feel backpressure as on a long fat pipe).
const HIGH_WATER = 4 << 20;

/** One direction of one connection: a FIFO of chunks, each released at its due time. */
class Direction {
  private queue: { data: Buffer; due: number }[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingDrain = false;
  private srcEnded = false;
  private finished = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly state: State,
    private readonly count: (n: number) => void,
  ) {
    src.on('data', (data: Buffer) => {
      this.queue.push({ data, due: Date.now() + state.delayMs });
      this.queued += data.length;
      this.pump();
    });
    src.on('end', () => {
      this.srcEnded = true;
      this.pump();
    });
  }

  /** Read from src only while the link is up and our queue has room. */
  updateFlow(): void {
    if (this.src.destroyed) return;
    if (this.state.mode === 'blackhole' || this.queued >= HIGH_WATER) this.src.pause();
    else this.src.resume();
  }

  pump(): void {
    this.updateFlow();
    if (this.state.mode === 'blackhole' || this.waitingDrain || this.timer || this.finished) return;
    if (this.dst.destroyed) {
      this.queue = [];
      this.queued = 0;
      return;
    }
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.due - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      this.queued -= head.data.length;
      this.count(head.data.length);
      if (!this.dst.write(head.data)) {
        this.waitingDrain = true;
        this.dst.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
        this.updateFlow();
        return;
      }
    }
    this.updateFlow();
    if (this.srcEnded) {
      this.finished = true;
      this.dst.end();
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export class Connection {
  readonly upstream: Socket;
  private readonly up: Direction;
  private readonly down: Direction;
  private dialled = false;
  private dropTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly client: Socket,
    private readonly target: { host: string; port: number },
    state: State,
    onGone: (c: Connection) => void,
  ) {
    this.upstream = new Socket({ allowHalfOpen: true });
    // Forward each chunk as it comes, as the daemons' own sockets do (ws sets TCP_NODELAY):
    // with Nagle on, a small write behind unacknowledged bytes waited for the peer's delayed
    // ACK, which added ~40 ms to one propagation sample in five in the bench.
    client.setNoDelay(true);
    this.upstream.setNoDelay(true);
    let closed = 0;
    const closedOne = () => {
      if (++closed === 2) {
        this.up.stop();
        this.down.stop();
        clearTimeout(this.dropTimer);
        onGone(this);
      }
    };
    // An error on one side is passed on as a reset of the other, as a router would.
    client.on('error', () => this.reset());
    this.upstream.on('error', () => this.reset());
    client.on('close', closedOne);
    this.upstream.on('close', closedOne);
    this.up = new Direction(client, this.upstream, state, (n) => {
      state.bytes.up += n;
    });
    this.down = new Direction(this.upstream, client, state, (n) => {
      state.bytes.down += n;
    });
    if (state.mode !== 'blackhole') this.dial();
  }

  /** Connect to the target; deferred while blackholed (the SYN "never arrives"). */
  dial(): void {
    if (this.dialled || this.client.destroyed) return;
    this.dialled = true;
    this.upstream.connect(this.target.port, this.target.host);
  }

  dropAfter(ms: number, onDrop: () => void): void {
    this.dropTimer = setTimeout(() => {
      onDrop();
      this.reset();
    }, ms);
    this.dropTimer.unref();
  }

  reset(): void {
    if (!this.client.destroyed) this.client.resetAndDestroy();
    // Only an established socket can send an RST; one still (or never) connecting is just dropped.
    if (!this.upstream.destroyed) {
      if (!this.dialled || this.upstream.connecting) this.upstream.destroy();
      else this.upstream.resetAndDestroy();
    }
  }

  flowChanged(): void {
    this.up.pump();
    this.down.pump();
  }
}
