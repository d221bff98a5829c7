// SHA-256 of block streams on a worker thread, so hashing (one core) overlaps with chunking
// on the main thread (the other core): see bench/notes/chunking.md. Buffers are transferred,
// not copied, and come back with the hashes, in order; a read buffer inside the shared wasm
// memory (a slot, see wasm/gear.ts) is named by its offset instead and is not moved at all.
// One worker serves every stream; it is started on first use and does not keep the process
// alive while idle.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { gearMemory, gearModule, sharedMemory } from './wasm/gear.ts';

export class HashWorkerError extends Error {
  readonly code = 'ERR_HASH_WORKER';
}

// Plain JS evaluated in the worker: no loader needed (the daemon runs .ts through tsx hooks,
// which worker threads do not inherit). A message carries a buffer and segments of it, as
// flat triples (start, end, closes) counted from byte `at`: each segment extends the
// stream's open block, and a closing one ends it. A block may continue into the next
// message. A whole block inside one segment takes the one-shot crypto.hash (Node >= 20.12),
// a few microseconds cheaper. With m.prints, such a block in the shared memory also gets
// its XXH64 from the worker's own instance of the gear module (block-prints.ts).
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const replies = workerData.replies;
const shared = workerData.shared;
const xxh64 = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } }).exports.xxh64;
const open = new Map();
parentPort.on('message', (m) => {
  if (m.drop) { open.delete(m.id); return; }
  let h = open.get(m.id) || null;
  const data = new Uint8Array(m.buf || shared, m.at);
  const segs = m.segs;
  const out = new Uint8Array(32 * m.closes);
  const fast = m.prints && !m.buf ? new BigUint64Array(m.closes) : null;
  const known = fast ? new Uint8Array(m.closes) : null;
  let k = 0;
  for (let i = 0; i < segs.length; i += 3) {
    const part = data.subarray(segs[i], segs[i + 1]);
    if (segs[i + 2] && !h && fast) {
      fast[k] = xxh64(m.at + segs[i], segs[i + 1] - segs[i]);
      known[k] = 1;
    }
    if (segs[i + 2] && !h && crypto.hash) {
      out.set(crypto.hash('sha256', part, 'buffer'), 32 * k++);
      continue;
    }
    h = h || crypto.createHash('sha256');
    h.update(part);
    if (segs[i + 2]) {
      out.set(h.digest(), 32 * k++);
      h = null;
    }
  }
  if (h) open.set(m.id, h); else open.delete(m.id);
  if (m.buf) replies.postMessage({ id: m.id, buf: m.buf, at: m.at, hashes: out }, [m.buf, out.buffer]);
  else if (fast) replies.postMessage({ id: m.id, at: m.at, hashes: out, fast, known }, [out.buffer, fast.buffer, known.buffer]);
  else replies.postMessage({ id: m.id, at: m.at, hashes: out }, [out.buffer]);
});
`;

interface Reply {
  id: number;
  /** The buffer sent, back; absent for a slot of the shared memory. */
  buf?: ArrayBuffer;
  at: number;
  hashes: Uint8Array;
  /** With prints: each closed block's XXH64, where known[i] is 1. */
  fast?: BigUint64Array;
  known?: Uint8Array;
}

/** Where a buffer handed to the worker goes once hashed: its own, or a slot (by offset). */
export type Recycle = (buf: ArrayBuffer | null, at: number) => void;

interface StreamState {
  onReply(r: Reply): void;
  onError(e: Error): void;
}

interface Hasher {
  worker: Worker;
  /** Replies come on their own port so they can also be taken synchronously (poll()). */
  replies: MessagePort;
}

let current: Hasher | null = null;
let nextId = 1;
const streams = new Map<number, StreamState>();

function fail(e: Error): void {
  current = null;
  for (const s of streams.values()) s.onError(e);
  streams.clear();
}

const dispatch = (r: Reply) => streams.get(r.id)?.onReply(r);

function getHasher(): Hasher {
  if (current) return current;
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { replies: port2, shared: sharedMemory, module: gearModule, memory: gearMemory },
    transferList: [port2],
  });
  const h: Hasher = { worker, replies: port1 };
  port1.on('message', dispatch);
  worker.on('error', (e) => fail(new HashWorkerError(`hash worker failed: ${e.message}`, { cause: e })));
  worker.on('exit', (code) => {
    port1.close();
    if (current === h) fail(new HashWorkerError(`hash worker exited (${code})`));
  });
  current = h;
  return h;
}

/**
 * Take the replies already waiting, without going through the event loop: a caller that
 * pushes buffers in a loop of resolved promises would otherwise never see them.
 */
function poll(h: Hasher): void {
  for (let m = receiveMessageOnPort(h.replies); m; m = receiveMessageOnPort(h.replies))
    dispatch(m.message as Reply);
}

/**
 * One stream of blocks hashed off-thread. send() hands over a buffer (it is detached);
 * `recycle` gets it back once hashed. hashes() resolves with every block's hash, in order.
 */
export class WorkerStream {
  private readonly id = nextId++;
  private readonly h = getHasher();
  private readonly done: Uint8Array[] = [];
  /** Each done block's XXH64, if the worker took one (prints streams only). */
  private readonly doneFast: (bigint | null)[] = [];
  private inFlight = 0;
  /** Offsets of the shared-memory slots the worker still holds, oldest first. */
  private readonly slotsOut: number[] = [];
  private closed = false;
  private failed: Error | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly recycle: Recycle,
    private readonly prints = false,
  ) {
    if (streams.size === 0) {
      this.h.worker.ref();
      this.h.replies.ref();
    }
    streams.set(this.id, {
      onReply: (r) => {
        this.inFlight--;
        if (!this.closed)
          for (let i = 0, k = 0; i < r.hashes.length; i += 32, k++) {
            this.done.push(r.hashes.subarray(i, i + 32));
            if (this.prints) this.doneFast.push(r.known?.[k] ? r.fast![k]! : null);
          }
        if (!r.buf) this.slotsOut.shift();
        this.recycle(r.buf ?? null, r.at);
        if (this.closed && this.inFlight === 0) this.unregister();
        this.wake();
      },
      onError: (e) => {
        this.failed = e;
        // The worker is gone: it reads none of the slots it was given any more.
        for (const at of this.slotsOut.splice(0)) this.recycle(null, at);
        this.wake();
      },
    });
  }

  /** Messages sent and not yet answered. */
  get pending(): number {
    poll(this.h);
    return this.inFlight;
  }

  /**
   * Hash segments of buf: flat (start, end, closes) triples, relative to byte `at` of buf;
   * `closes` of them end a block. buf is transferred, unless it is the shared memory.
   * Hashes come back in the order blocks were closed.
   */
  send(buf: ArrayBuffer | SharedArrayBuffer, at: number, segs: number[], closes: number): void {
    if (this.failed) throw this.failed;
    this.inFlight++;
    if (buf === sharedMemory) {
      this.slotsOut.push(at);
      this.h.worker.postMessage({ id: this.id, at, segs, closes, prints: this.prints });
    } else this.h.worker.postMessage({ id: this.id, buf, at, segs, closes }, [buf as ArrayBuffer]);
  }

  /** Resolve once at most `n` messages are unanswered. */
  async drain(n: number): Promise<void> {
    poll(this.h);
    while (this.inFlight > n) {
      if (this.failed) throw this.failed;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failed) throw this.failed;
  }

  async hashes(): Promise<Uint8Array[]> {
    await this.drain(0);
    this.close();
    return this.done;
  }

  /** After hashes(): each block's XXH64 where the worker took one (a prints stream). */
  fastHashes(): readonly (bigint | null)[] {
    return this.doneFast;
  }

  /**
   * Forget the stream (also on error: the worker drops any half-hashed block). Replies
   * still due are awaited in the background, so every buffer and slot is recycled.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.h === current) this.h.worker.postMessage({ id: this.id, drop: true });
    if (this.inFlight === 0 || this.failed) this.unregister();
  }

  private unregister(): void {
    if (!streams.delete(this.id)) return;
    if (streams.size === 0) {
      this.h.worker.unref();
      this.h.replies.unref();
    }
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const f of ws) f();
  }
}
