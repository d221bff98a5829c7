// Proof of the shared secret, and certificate fingerprints for TLS pinning.
//
// Each side proves it knows the secret with an HMAC over a transcript of this one
// connection. The transcript names who makes the proof (role and node id), who it is
// for, and both fresh nonces in a fixed order (the dialler's first), and it hashes both
// Hello frames exactly as they crossed the wire. So a proof is good for one direction of
// one connection only: it cannot be replayed (fresh nonces), reflected back to its maker
// (the role and the sender/receiver ids differ), or moved to another connection; over
// TLS it is also bound to the TLS session, so it cannot be relayed through a second one.
// The secret itself never leaves the process.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { NetError } from './errors.ts';

export const AUTH_LABEL = 'resonate/auth/v1';
export const MAC_BYTES = 32;

export type Role = 'dialer' | 'acceptor';
const ROLE_BYTE: Record<Role, number> = { dialer: 1, acceptor: 2 };

export interface TranscriptInput {
  /** Who makes the proof. */
  role: Role;
  senderNodeId: string;
  receiverNodeId: string;
  dialerNonce: Uint8Array;
  acceptorNonce: Uint8Array;
  /** The dialler's encoded Hello frame, byte for byte as sent. */
  dialerHello: Uint8Array;
  acceptorHello: Uint8Array;
  /** TLS exporter value of this connection (see channelBinding), empty without TLS. */
  channelBinding: Uint8Array;
}

function lengthPrefixed(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/**
 * label "resonate/auth/v1" || 0x00 || role byte (1 dialler, 2 acceptor)
 * || lp(sender node id) || lp(receiver node id) || lp(dialler nonce) || lp(acceptor nonce)
 * || SHA-256(dialler Hello frame) || SHA-256(acceptor Hello frame) || lp(channel binding)
 * where lp(x) = 4-byte big-endian length || x, and node ids are UTF-8.
 */
export function transcript(t: TranscriptInput): Buffer {
  return Buffer.concat([
    Buffer.from(AUTH_LABEL, 'ascii'),
    Buffer.from([0, ROLE_BYTE[t.role]]),
    lengthPrefixed(Buffer.from(t.senderNodeId, 'utf8')),
    lengthPrefixed(Buffer.from(t.receiverNodeId, 'utf8')),
    lengthPrefixed(t.dialerNonce),
    lengthPrefixed(t.acceptorNonce),
    sha256(t.dialerHello),
    sha256(t.acceptorHello),
    lengthPrefixed(t.channelBinding),
  ]);
}

export const EXPORTER_LABEL = 'EXPORTER-resonate-auth-v1';

/**
 * Over TLS, both ends derive the same 32 bytes from the TLS session (RFC 5705 exporter);
 * a man in the middle who terminates TLS on each side gets two different values, so the
 * proofs it relays do not verify. Without TLS there is nothing to bind to: empty.
 */
export function channelBinding(socket: unknown): Uint8Array {
  const tls = socket as { exportKeyingMaterial?: (n: number, label: string, ctx: Buffer) => Buffer };
  if (typeof tls.exportKeyingMaterial !== 'function') return new Uint8Array(0);
  return tls.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0));
}

/** The secret as HMAC key bytes; an empty secret means none. */
export function secretKey(secret: string | Uint8Array | null | undefined): Uint8Array | null {
  if (secret === null || secret === undefined) return null;
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return key.length > 0 ? key : null;
}

/** The proof we send: HMAC-SHA256(secret, transcript), or empty when we have no secret. */
export function makeProof(key: Uint8Array | null, t: TranscriptInput): Uint8Array {
  if (!key) return new Uint8Array(0);
  return createHmac('sha256', key).update(transcript(t)).digest();
}

export type ProofVerdict = 'ok' | 'wrong-secret' | 'peer-no-secret' | 'peer-has-secret';

/**
 * Check the peer's proof. `t` describes the peer's proof (role and sender are the peer's).
 * With a secret only a valid mac passes; without one only an empty mac does, since a peer
 * that has a secret cannot be verified by us.
 */
export function checkProof(key: Uint8Array | null, t: TranscriptInput, mac: Uint8Array): ProofVerdict {
  if (!key) return mac.length === 0 ? 'ok' : 'peer-has-secret';
  if (mac.length === 0) return 'peer-no-secret';
  const expected = makeProof(key, t);
  if (mac.length !== expected.length) return 'wrong-secret';
  return timingSafeEqual(mac, expected) ? 'ok' : 'wrong-secret';
}

/** SHA-256 of a certificate's DER bytes: lower-case hex, no colons. */
export function certFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Accepts hex with or without colons, any case; returns lower-case hex without colons. */
export function normalizeFingerprint(text: string): string {
  const hex = text.trim().replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new NetError(
      'ERR_BAD_OPTIONS',
      `bad certificate fingerprint "${text}": expected 64 hex digits (SHA-256)`,
    );
  }
  return hex;
}
