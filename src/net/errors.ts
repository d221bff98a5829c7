// Typed errors of the transport and the WebSocket close codes it uses. Close codes carry
// the reason a link ended to the other side, so that both ends can log the same story and
// the dialler can tell a failure (back off) from a routine close (do not).

export type NetErrorCode =
  | 'ERR_PORT_IN_USE'
  | 'ERR_LISTEN'
  | 'ERR_BAD_PEER_ADDRESS'
  | 'ERR_BAD_OPTIONS'
  | 'ERR_FRAME_TOO_LARGE';

export interface NetErrorDetails {
  /** Peer address ("host:port") or node id the error is about, if any. */
  peer?: string;
  port?: number;
  host?: string;
  cause?: unknown;
}

export class NetError extends Error {
  readonly peer: string | undefined;
  readonly port: number | undefined;
  readonly host: string | undefined;
  constructor(
    readonly code: NetErrorCode,
    message: string,
    details: NetErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'NetError';
    this.peer = details.peer;
    this.port = details.port;
    this.host = details.host;
  }
}

export class PortInUseError extends NetError {
  constructor(port: number, host: string, cause?: unknown) {
    super('ERR_PORT_IN_USE', `port ${port} is already in use (on ${host})`, { port, host, cause });
    this.name = 'PortInUseError';
  }
}

/** WebSocket close codes (4000-4999 are free for applications). */
export const CloseCode = {
  Normal: 1000,
  /** This side is shutting down. */
  GoingAway: 1001,
  TextFrame: 1003,
  /** ws closes with this itself when a message exceeds maxPayload. */
  TooBig: 1009,
  /** A frame that does not decode, or a handshake frame after the handshake. */
  BadFrame: 4000,
  /** Protocol version mismatch. */
  Version: 4001,
  /** Malformed handshake. */
  Handshake: 4002,
  /** Authentication failed (secret or certificate). */
  Auth: 4003,
  /** The peer is this very process. */
  Self: 4004,
  HandshakeTimeout: 4008,
  /** Another link to the same node won: routine, not a failure. */
  Duplicate: 4009,
  /** Another process already holds a link under this node id. */
  NodeIdInUse: 4010,
  /** Keepalive found the peer silent. */
  Dead: 4011,
  /** The peer broke the replication protocol (invalid operation, limits): back off hard. */
  Protocol: 4012,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes that mean "this peer refused us": the dialler backs off harder. */
export const REFUSAL_CODES: ReadonlySet<number> = new Set([
  CloseCode.Protocol,
  CloseCode.Version,
  CloseCode.Handshake,
  CloseCode.Auth,
  CloseCode.NodeIdInUse,
]);

/** A WebSocket close reason is limited to 123 bytes of UTF-8. */
export function closeReason(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= 123) return text;
  // Cut on a character boundary: decode a prefix and drop a trailing partial character.
  return buf
    .subarray(0, 120)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}
