// The handshake of one connection as a state machine without I/O: feed it the peer's
// frames, it says what to send and when the peer is verified or refused.
//
//   both:      send Hello{protocol, nodeId, origin, nonce, listen, clusterSize, instance}
//   dialler:   on Hello: check it, send Proof_d          on Proof_a: verify -> verified
//   acceptor:  on Hello: check it                        on Proof_d: verify -> verified,
//              then, once the transport admits the link, send Proof_a
//
// The acceptor proves itself only to a dialler that has already proven itself and been
// admitted (not a duplicate, not a clashing node id). So an unauthenticated client never
// gets a MAC from us, a refused dialler never sees a link come up and go down again, and
// a refused peer gets nothing more than the close frame saying why. Cost: 2 round trips.
import { decodeFrame, encodeFrame } from '../proto/codec.ts';
import type { Hello } from '../proto/types.ts';
import { checkProof, makeProof, type Role, type TranscriptInput } from './auth.ts';
import { CloseCode } from './errors.ts';

/** Bump when the wire protocol changes incompatibly. */
export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
export const INSTANCE_BYTES = 16;
const MAX_NODE_ID_BYTES = 256;

export interface LocalIdentity {
  nodeId: string;
  origin: string;
  /** Random per process start. */
  instance: Uint8Array;
  /** Address announced to peers (Hello.listen), "" if none. */
  announce: string;
  clusterSize: () => number;
  protocol: number;
  /** HMAC key, or null when this node has no secret. */
  key: Uint8Array | null;
}

export type RefusalKind =
  | 'version'
  | 'malformed'
  | 'wrong-secret'
  | 'peer-no-secret'
  | 'peer-has-secret'
  | 'self'
  | 'node-id-clash';

export interface Refusal {
  kind: RefusalKind;
  code: CloseCode;
  /** Why, for our log ("peer" is the other side). */
  reason: string;
  /** Why, as the close reason the peer logs ("this node" is the peer). */
  wire: string;
}

export interface Authenticated {
  hello: Hello;
  /** The dialler's nonce: both sides know it, so it breaks ties between duplicate links. */
  dialerNonce: Uint8Array;
}

export type Step =
  | { kind: 'send'; frame: Uint8Array }
  | { kind: 'wait' }
  /** The peer is proven. `reply` (acceptor only) is our proof: send it once admitted. */
  | { kind: 'verified'; peer: Authenticated; reply: Uint8Array | null }
  | { kind: 'refuse'; refusal: Refusal };

/** [our log, what the peer logs] */
const REASONS: Record<Exclude<RefusalKind, 'version' | 'malformed'>, [string, string]> = {
  'wrong-secret': [
    'authentication failed: wrong secret (proof did not verify)',
    'authentication failed: wrong secret',
  ],
  'peer-no-secret': [
    'authentication failed: peer has no secret but this node requires one',
    'authentication failed: this node has no secret but the peer requires one',
  ],
  'peer-has-secret': [
    'authentication failed: peer has a secret but this node has none to verify it',
    'authentication failed: this node has a secret but the peer has none to verify it',
  ],
  self: ['connected to itself', 'connected to itself'],
  'node-id-clash': [
    'peer is another process using this node id',
    'peer is another process using this node id',
  ],
};

export const refusal = (kind: RefusalKind, reason?: string, wire?: string): Refusal => {
  const code =
    kind === 'version'
      ? CloseCode.Version
      : kind === 'malformed'
        ? CloseCode.Handshake
        : kind === 'self'
          ? CloseCode.Self
          : kind === 'node-id-clash'
            ? CloseCode.NodeIdInUse
            : CloseCode.Auth;
  const [local, remote] = REASONS[kind as keyof typeof REASONS] ?? ['', ''];
  return { kind, code, reason: reason ?? local, wire: wire ?? reason ?? remote };
};

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export class Handshake {
  /** Our Hello frame, encoded once: the transcript hashes exactly these bytes. */
  readonly helloFrame: Uint8Array;
  private readonly nonce: Uint8Array;
  private state: 'hello' | 'proof' | 'done' = 'hello';
  private peerHello: Hello | null = null;
  private peerHelloFrame: Uint8Array | null = null;
  private claimed = '';

  constructor(
    private readonly local: LocalIdentity,
    private readonly outbound: boolean,
    nonce: Uint8Array,
    /** TLS exporter value of this connection (auth.ts channelBinding), empty without TLS. */
    private readonly binding: Uint8Array = new Uint8Array(0),
  ) {
    this.nonce = nonce;
    this.helloFrame = encodeFrame({
      hello: {
        protocol: local.protocol,
        nodeId: local.nodeId,
        origin: local.origin,
        nonce,
        listen: local.announce,
        clusterSize: local.clusterSize(),
        instance: local.instance,
      },
    });
  }

  /** The node id in the peer's Hello, once received (unverified until authenticated). */
  get claimedNodeId(): string {
    return this.claimed;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feed one binary message from the peer. */
  receive(raw: Uint8Array): Step {
    if (this.state === 'done')
      return { kind: 'refuse', refusal: refusal('malformed', 'handshake already over') };
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(raw);
    } catch (err) {
      this.state = 'done';
      return {
        kind: 'refuse',
        refusal: refusal('malformed', `undecodable handshake frame: ${(err as Error).message}`),
      };
    }
    if (this.state === 'hello') {
      if (!('hello' in frame)) return this.fail(refusal('malformed', 'expected a hello frame'));
      return this.onHello(frame.hello, raw);
    }
    if (!('proof' in frame)) return this.fail(refusal('malformed', 'expected a proof frame'));
    return this.onProof(frame.proof.mac);
  }

  private fail(r: Refusal): Step {
    this.state = 'done';
    return { kind: 'refuse', refusal: r };
  }

  private onHello(h: Hello, raw: Uint8Array): Step {
    this.claimed = h.nodeId.slice(0, MAX_NODE_ID_BYTES);
    if (h.protocol !== this.local.protocol) {
      const [ours, theirs] = [this.local.protocol, h.protocol];
      return this.fail(
        refusal(
          'version',
          `protocol version mismatch: peer speaks ${theirs}, this node ${ours}`,
          `protocol version mismatch: peer speaks ${ours}, this node ${theirs}`,
        ),
      );
    }
    const idBytes = Buffer.byteLength(h.nodeId, 'utf8');
    if (idBytes === 0 || idBytes > MAX_NODE_ID_BYTES)
      return this.fail(refusal('malformed', 'bad node id in hello'));
    if (h.nonce.length !== NONCE_BYTES) return this.fail(refusal('malformed', 'bad nonce length in hello'));
    if (h.instance.length !== INSTANCE_BYTES) return this.fail(refusal('malformed', 'bad instance in hello'));
    if (h.nodeId === this.local.nodeId) {
      return this.fail(refusal(sameBytes(h.instance, this.local.instance) ? 'self' : 'node-id-clash'));
    }
    this.peerHello = h;
    this.peerHelloFrame = Buffer.from(raw); // a copy: the transcript must hash what was received
    this.state = 'proof';
    if (!this.outbound) return { kind: 'wait' };
    return { kind: 'send', frame: this.ourProof() };
  }

  private onProof(mac: Uint8Array): Step {
    const peerRole: Role = this.outbound ? 'acceptor' : 'dialer';
    const verdict = checkProof(this.local.key, this.transcriptFor(peerRole), mac);
    if (verdict !== 'ok') return this.fail(refusal(verdict));
    this.state = 'done';
    const hello = this.peerHello!;
    const peer = { hello, dialerNonce: this.outbound ? this.nonce : hello.nonce };
    return { kind: 'verified', peer, reply: this.outbound ? null : this.ourProof() };
  }

  private ourProof(): Uint8Array {
    const mac = makeProof(this.local.key, this.transcriptFor(this.outbound ? 'dialer' : 'acceptor'));
    return encodeFrame({ proof: { mac } });
  }

  /** The transcript of the proof made by `role` on this connection. */
  private transcriptFor(role: Role): TranscriptInput {
    const peer = this.peerHello!;
    const peerFrame = this.peerHelloFrame!;
    const weAreSender = (role === 'dialer') === this.outbound;
    return {
      role,
      senderNodeId: weAreSender ? this.local.nodeId : peer.nodeId,
      receiverNodeId: weAreSender ? peer.nodeId : this.local.nodeId,
      dialerNonce: this.outbound ? this.nonce : peer.nonce,
      acceptorNonce: this.outbound ? peer.nonce : this.nonce,
      dialerHello: this.outbound ? this.helloFrame : peerFrame,
      acceptorHello: this.outbound ? peerFrame : this.helloFrame,
      channelBinding: this.binding,
    };
  }
}
