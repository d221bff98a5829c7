// The transport as the node core sees it: authenticated links to peers that carry Frames.
// The daemon's links run over WebSockets (src/net/); the simulator's over an in-memory
// network that can delay, drop, duplicate and reorder. Handshake frames (hello, proof)
// never reach the core: a link is handed over only once the peer has proven itself.
import type { Frame } from '../proto/types.ts';

export interface PeerInfo {
  nodeId: string;
  /** The peer's replica: "<node id>~<log id>". */
  origin: string;
  /** Remote address as seen by us ("127.0.0.1:4321"), for status and logs. */
  address: string;
  /** The address the peer listens on, as it announced it ("" if none). */
  listen: string;
  clusterSize: number;
  /** We dialled this link (false: the peer dialled us). */
  outbound: boolean;
}

export interface PeerLink {
  readonly peer: PeerInfo;
  /**
   * Queue a frame. Returns false once the link's send buffer is above its high-water
   * mark: the caller should then await drained() before sending bulk data.
   */
  send(frame: Frame): boolean;
  /**
   * Queue a frame already encoded (proto/reply-frame.ts); same return value as send().
   * `onSent`, if the link calls it, says the bytes are no longer read (handed to the kernel
   * or dropped), so their buffer may be reused; a link that cannot tell never calls it.
   */
  sendEncoded(bytes: Uint8Array, onSent?: () => void): boolean;
  drained(): Promise<void>;
  readonly bufferedBytes: number;
  /**
   * Close the link; the reason is logged on both sides where possible. A close code from
   * net/errors.ts CloseCode (e.g. Protocol) tells the other side how to back off.
   */
  close(reason: string, code?: number): void;
  /** Set by the core: every frame received after the handshake, in order. */
  onFrame: (frame: Frame) => void;
  /** Set by the core: called once when the link is gone. */
  onClose: (reason: string) => void;
}

export interface Transport {
  /** Set by the core: a new authenticated link (at most one per peer node at a time). */
  onLink: (link: PeerLink) => void;
  close(): Promise<void>;
}
