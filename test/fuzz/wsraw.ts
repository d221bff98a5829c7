// A bare WebSocket client over a plain TCP socket, written for hostile testing: it can
// send any byte at any point (before the upgrade, half a frame, a frame whose header lies
// about its length, unmasked or reserved-opcode frames), which a real client library
// refuses to do. Server frames are parsed just enough to read binary messages, answer
// pings and notice the close frame.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export interface FrameSpec {
  opcode?: number;
  payload: Uint8Array;
  fin?: boolean;
  /** Client frames must be masked; false sends an illegal unmasked frame. */
  mask?: boolean;
  /** RSV1-3 bits (must be 0 without extensions). */
  rsv?: number;
  /** Length written in the header (default: the payload's); a lie makes a truncated or stalled frame. */
  declaredLength?: number;
}

/** Encode one client frame. */
export function encodeWsFrame(f: FrameSpec): Buffer {
  const opcode = f.opcode ?? Opcode.Binary;
  const fin = f.fin ?? true;
  const masked = f.mask ?? true;
  const len = f.declaredLength ?? f.payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const m = masked ? 0x80 : 0;
  let ext: Buffer;
  if (len < 126) {
    head.push(m | len);
    ext = Buffer.alloc(0);
  } else if (len < 65536) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  const payload = Buffer.from(f.payload);
  if (!masked) return Buffer.concat([Buffer.from(head), ext, payload]);
  // Masking keys only need to vary, not to be secret: no CSPRNG call per frame.
  const key = Buffer.alloc(4);
  key.writeUInt32LE((Math.random() * 2 ** 32) >>> 0);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(head), ext, key, payload]);
}

export interface WsMessage {
  opcode: number;
  data: Buffer;
}

export interface WsClosed {
  /** Close code from the server's close frame; null if the socket just ended. */
  code: number | null;
  reason: string;
}

export interface RawWsOptions {
  host: string;
  port: number;
  path?: string;
  /** Local address to connect from (e.g. a non-loopback address of this machine). */
  localAddress?: string;
  timeoutMs?: number;
  /** Bytes to send instead of a proper upgrade request (the upgrade then is not awaited). */
  rawRequest?: Buffer;
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly response: string,
  ) {
    super(`upgrade refused: HTTP ${status}`);
  }
}

/** One connection. */
export class RawWs {
  private buf: Buffer = Buffer.alloc(0);
  private readonly queue: WsMessage[] = [];
  private waiters: (() => void)[] = [];
  private closedInfo: WsClosed | null = null;
  private fragments: Buffer[] = [];
  private fragOpcode = 0;
  private held: Buffer[] | null = null;
  /** Bytes received on a connection opened with rawRequest. */
  rawReceived = 0;
  readonly closed: Promise<WsClosed>;
  private resolveClosed!: (c: WsClosed) => void;
  /** Set to handle messages as they arrive (next() then sees none). */
  onMessage: ((m: WsMessage) => void) | null = null;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
    socket.on('error', () => {});
    socket.on('close', () => this.finish({ code: null, reason: 'socket closed' }));
  }

  /** Connect and upgrade (rejects with UpgradeRefused on an HTTP error answer). */
  static async connect(o: RawWsOptions): Promise<RawWs> {
    const timeoutMs = o.timeoutMs ?? 5_000;
    const socket = connect({
      host: o.host,
      port: o.port,
      noDelay: true,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connect to ${o.host}:${o.port} timed out`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
    const ws = new RawWs(socket);
    if (o.rawRequest) {
      // Not a WebSocket: whatever comes back is an HTTP answer, counted but not parsed.
      socket.on('data', (d: Buffer) => {
        ws.rawReceived += d.length;
      });
      socket.write(o.rawRequest);
      return ws;
    }
    const key = randomBytes(16).toString('base64');
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    socket.write(
      `GET ${o.path ?? '/ws'} HTTP/1.1\r\nHost: ${host}:${o.port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise<void>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const t = setTimeout(() => {
        socket.off('data', onHead);
        socket.destroy();
        reject(new Error('no upgrade response'));
      }, timeoutMs);
      const onHead = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(t);
        socket.off('data', onHead);
        const text = head.subarray(0, end).toString('latin1');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        if (status !== 101) {
          socket.destroy();
          reject(new UpgradeRefused(status, text));
          return;
        }
        socket.on('data', (x: Buffer) => ws.onData(x));
        const rest = head.subarray(end + 4);
        if (rest.length) ws.onData(rest);
        resolve();
      };
      socket.on('data', onHead);
      socket.once('close', () => {
        clearTimeout(t);
        reject(new Error('closed before the upgrade response'));
      });
    });
    return ws;
  }

  get isClosed(): boolean {
    return this.closedInfo !== null;
  }

  /** Send one binary message (or another opcode), properly framed and masked. */
  send(payload: Uint8Array, opcode: number = Opcode.Binary): void {
    this.write(encodeWsFrame({ opcode, payload }));
  }

  sendFrame(f: FrameSpec): void {
    this.write(encodeWsFrame(f));
  }

  write(bytes: Uint8Array): void {
    if (this.held) {
      this.held.push(Buffer.from(bytes));
      return;
    }
    this.writeNow(bytes);
  }

  private writeNow(bytes: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(bytes);
  }

  /**
   * Write part of a frame and hold every other write (pongs, replies) until resume(), so
   * the stall is a real pause in the middle of one frame, not interleaved garbage.
   */
  stall(first: Uint8Array): void {
    this.writeNow(first);
    this.held ??= [];
  }

  /** End a stall: the rest of the frame, then whatever was held. */
  resume(rest: Uint8Array): void {
    const held = this.held ?? [];
    this.held = null;
    this.writeNow(rest);
    for (const b of held) this.writeNow(b);
  }

  /** Bytes queued in our socket (backpressure for floods). */
  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  /** The next message, or null once closed / after timeoutMs. */
  async next(timeoutMs = 5_000): Promise<WsMessage | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.closedInfo) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  /** Wait for the connection to end; null on timeout. */
  async waitClosed(timeoutMs: number): Promise<WsClosed | null> {
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.closed,
      new Promise<null>((resolve) => {
        t = setTimeout(() => resolve(null), timeoutMs);
      }),
    ]);
    clearTimeout(t);
    return r;
  }

  /** Close politely (close frame, then end). */
  close(code = 1000): void {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.write(encodeWsFrame({ opcode: Opcode.Close, payload: p }));
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private finish(c: WsClosed): void {
    if (this.closedInfo) return;
    this.closedInfo = c;
    this.resolveClosed(c);
    this.wake();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (b1 & 0x80) off += 4; // servers do not mask; tolerate it anyway
      if (this.buf.length < off + len) return;
      let payload = this.buf.subarray(off, off + len);
      if (b1 & 0x80) {
        const key = this.buf.subarray(off - 4, off);
        payload = Buffer.from(payload);
        for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
      }
      this.buf = this.buf.subarray(off + len);
      this.onWsFrame(b0 & 0x0f, (b0 & 0x80) !== 0, payload);
    }
  }

  private onWsFrame(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      this.send(payload, Opcode.Pong);
      return;
    }
    if (opcode === Opcode.Pong) return;
    if (opcode === Opcode.Close) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
      // Answer the close, then let the server end the TCP connection.
      if (!this.closedInfo) {
        const p = Buffer.alloc(2);
        p.writeUInt16BE(code ?? 1000);
        this.write(encodeWsFrame({ opcode: Opcode.Close, payload: p }));
      }
      this.finish({ code, reason });
      this.socket.end();
      return;
    }
    if (opcode === Opcode.Continuation) {
      this.fragments.push(Buffer.from(payload));
    } else {
      this.fragments = [Buffer.from(payload)];
      this.fragOpcode = opcode;
    }
    if (!fin) return;
    const m = { opcode: this.fragOpcode, data: Buffer.concat(this.fragments) };
    this.fragments = [];
    if (this.onMessage) this.onMessage(m);
    else this.queue.push(m);
    this.wake();
  }
}
