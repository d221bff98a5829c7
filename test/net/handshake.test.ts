// The handshake state machine and the proof, without sockets: who may link, who is
// refused and why, and that proofs cannot be replayed or reflected.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  AUTH_LABEL,
  checkProof,
  makeProof,
  secretKey,
  type TranscriptInput,
  transcript,
} from '../../src/net/auth.ts';
import { CloseCode } from '../../src/net/errors.ts';
import { Handshake, type LocalIdentity, PROTOCOL_VERSION, type Step } from '../../src/net/handshake.ts';
import { encodeFrame } from '../../src/proto/codec.ts';

function identity(nodeId: string, secret: string | null, extra: Partial<LocalIdentity> = {}): LocalIdentity {
  return {
    nodeId,
    origin: `${nodeId}~log`,
    instance: randomBytes(16),
    announce: `${nodeId}.example:7000`,
    clusterSize: () => 3,
    protocol: PROTOCOL_VERSION,
    key: secretKey(secret),
    ...extra,
  };
}

interface Outcome {
  dialer: Step[];
  acceptor: Step[];
  /** Frames the acceptor's proof reply carried, if it got that far. */
  wire: { proofD: Uint8Array | null; proofA: Uint8Array | null };
}

/** Run a full exchange between two handshakes, as the link would. */
function run(d: Handshake, a: Handshake): Outcome {
  const out: Outcome = { dialer: [], acceptor: [], wire: { proofD: null, proofA: null } };
  // Both Hellos cross.
  const dh = d.receive(a.helloFrame);
  const ah = a.receive(d.helloFrame);
  out.dialer.push(dh);
  out.acceptor.push(ah);
  if (dh.kind !== 'send' || ah.kind !== 'wait') return out;
  out.wire.proofD = dh.frame;
  const av = a.receive(dh.frame);
  out.acceptor.push(av);
  if (av.kind !== 'verified' || !av.reply) return out;
  out.wire.proofA = av.reply;
  out.dialer.push(d.receive(av.reply));
  return out;
}

const last = (steps: Step[]) => steps[steps.length - 1]!;
const refusalOf = (s: Step) => (s.kind === 'refuse' ? s.refusal : null);

describe('handshake', () => {
  test('same secret: both sides verify each other and agree on the dialler nonce', () => {
    const d = new Handshake(identity('alpha', 'k'), true, randomBytes(32));
    const a = new Handshake(identity('beta', 'k'), false, randomBytes(32));
    const o = run(d, a);
    const dv = last(o.dialer);
    const av = last(o.acceptor);
    assert.equal(dv.kind, 'verified');
    assert.equal(av.kind, 'verified');
    if (dv.kind !== 'verified' || av.kind !== 'verified') return;
    assert.equal(dv.peer.hello.nodeId, 'beta');
    assert.equal(av.peer.hello.nodeId, 'alpha');
    assert.equal(av.peer.hello.listen, 'alpha.example:7000');
    assert.equal(av.peer.hello.clusterSize, 3);
    assert.deepEqual(Buffer.from(dv.peer.dialerNonce), Buffer.from(av.peer.dialerNonce));
    assert.equal(dv.reply, null);
  });

  test('no secret on either side: verified with empty proofs', () => {
    const o = run(
      new Handshake(identity('a', null), true, randomBytes(32)),
      new Handshake(identity('b', null), false, randomBytes(32)),
    );
    assert.equal(last(o.dialer).kind, 'verified');
    assert.equal(last(o.acceptor).kind, 'verified');
  });

  test('wrong secret: the acceptor refuses and never sends its own proof', () => {
    const o = run(
      new Handshake(identity('a', 'one'), true, randomBytes(32)),
      new Handshake(identity('b', 'two'), false, randomBytes(32)),
    );
    const r = refusalOf(last(o.acceptor));
    assert.equal(r?.kind, 'wrong-secret');
    assert.equal(r?.code, CloseCode.Auth);
    assert.equal(o.wire.proofA, null);
  });

  test('secret on one side only: refused, with the reason told from each side', () => {
    const noSecretDialer = run(
      new Handshake(identity('a', null), true, randomBytes(32)),
      new Handshake(identity('b', 'k'), false, randomBytes(32)),
    );
    const r1 = refusalOf(last(noSecretDialer.acceptor))!;
    assert.equal(r1.kind, 'peer-no-secret');
    assert.match(r1.reason, /peer has no secret but this node requires one/);
    assert.match(r1.wire, /this node has no secret but the peer requires one/);
    const secretDialer = run(
      new Handshake(identity('a', 'k'), true, randomBytes(32)),
      new Handshake(identity('b', null), false, randomBytes(32)),
    );
    assert.equal(refusalOf(last(secretDialer.acceptor))?.kind, 'peer-has-secret');
  });

  test('protocol version mismatch: both refuse on the Hello', () => {
    const o = run(
      new Handshake(identity('a', 'k', { protocol: 1 }), true, randomBytes(32)),
      new Handshake(identity('b', 'k', { protocol: 2 }), false, randomBytes(32)),
    );
    assert.equal(refusalOf(o.dialer[0]!)?.code, CloseCode.Version);
    assert.match(refusalOf(o.acceptor[0]!)!.reason, /peer speaks 1, this node 2/);
    assert.match(refusalOf(o.acceptor[0]!)!.wire, /peer speaks 2, this node 1/);
  });

  test('our own node id: same process is "self", another process a clash', () => {
    const me = identity('same', null);
    const self = run(new Handshake(me, true, randomBytes(32)), new Handshake(me, false, randomBytes(32)));
    assert.equal(refusalOf(self.dialer[0]!)?.kind, 'self');
    const other = run(
      new Handshake(me, true, randomBytes(32)),
      new Handshake(identity('same', null), false, randomBytes(32)),
    );
    assert.equal(refusalOf(other.acceptor[0]!)?.kind, 'node-id-clash');
  });

  test('malformed handshakes are refused', () => {
    const a = () => new Handshake(identity('b', null), false, randomBytes(32));
    assert.equal(refusalOf(a().receive(Buffer.from([0x0a, 0x05])))?.kind, 'malformed');
    assert.equal(
      refusalOf(a().receive(encodeFrame({ proof: { mac: new Uint8Array(0) } })))?.kind,
      'malformed',
    );
    const shortNonce = new Handshake(identity('a', null), true, randomBytes(8));
    assert.match(refusalOf(a().receive(shortNonce.helloFrame))!.reason, /nonce/);
    const hs = a();
    hs.receive(new Handshake(identity('a', null), true, randomBytes(32)).helloFrame);
    assert.equal(
      refusalOf(hs.receive(encodeFrame({ blockReply: { id: 1, data: new Uint8Array(0), missing: true } })))
        ?.kind,
      'malformed',
    );
  });

  test('a recorded dialler proof cannot be replayed on a new connection', () => {
    const dialerId = identity('alpha', 'k');
    const acceptorId = identity('beta', 'k');
    const d = new Handshake(dialerId, true, randomBytes(32));
    const first = run(d, new Handshake(acceptorId, false, randomBytes(32)));
    assert.equal(last(first.acceptor).kind, 'verified');
    // An eavesdropper replays the dialler's Hello and Proof to a fresh acceptor.
    const fresh = new Handshake(acceptorId, false, randomBytes(32));
    assert.equal(fresh.receive(d.helloFrame).kind, 'wait');
    assert.equal(refusalOf(fresh.receive(first.wire.proofD!))?.kind, 'wrong-secret');
  });
});

describe('proof transcript', () => {
  const key = secretKey('k')!;
  const base: TranscriptInput = {
    role: 'dialer',
    senderNodeId: 'alpha',
    receiverNodeId: 'beta',
    dialerNonce: randomBytes(32),
    acceptorNonce: randomBytes(32),
    dialerHello: randomBytes(40),
    acceptorHello: randomBytes(40),
    channelBinding: new Uint8Array(0),
  };

  test('layout: label, 0, role, length-prefixed ids and nonces, both Hello hashes, binding', () => {
    const t = transcript(base);
    assert.equal(t.subarray(0, AUTH_LABEL.length).toString(), 'resonate/auth/v1');
    assert.deepEqual([...t.subarray(16, 18)], [0, 1]);
    assert.equal(t.readUInt32BE(18), 5);
    assert.equal(t.subarray(22, 27).toString(), 'alpha');
    assert.equal(t.length, 16 + 2 + (4 + 5) + (4 + 4) + (4 + 32) * 2 + 32 * 2 + 4);
    assert.equal(transcript({ ...base, channelBinding: randomBytes(32) }).length, t.length + 32);
  });

  test('a proof is bound to role, direction, nonces and both Hellos', () => {
    const mac = makeProof(key, base);
    assert.equal(mac.length, 32);
    assert.equal(checkProof(key, base, mac), 'ok');
    const variants: Partial<TranscriptInput>[] = [
      { role: 'acceptor' }, // reflected back as the other role
      { senderNodeId: 'beta', receiverNodeId: 'alpha' }, // reflected back to its maker
      { dialerNonce: randomBytes(32) },
      { acceptorNonce: randomBytes(32) },
      { dialerNonce: base.acceptorNonce, acceptorNonce: base.dialerNonce }, // nonces swapped
      { dialerHello: randomBytes(40) },
      { acceptorHello: randomBytes(40) },
      { channelBinding: randomBytes(32) }, // relayed through another TLS session
    ];
    for (const v of variants)
      assert.equal(checkProof(key, { ...base, ...v }, mac), 'wrong-secret', JSON.stringify(Object.keys(v)));
    assert.equal(checkProof(secretKey('other'), base, mac), 'wrong-secret');
    assert.equal(checkProof(key, base, mac.subarray(0, 31)), 'wrong-secret');
    assert.equal(checkProof(key, base, new Uint8Array(0)), 'peer-no-secret');
    assert.equal(checkProof(null, base, mac), 'peer-has-secret');
    assert.equal(checkProof(null, base, new Uint8Array(0)), 'ok');
    assert.equal(makeProof(null, base).length, 0);
  });

  test('an empty secret means none', () => {
    assert.equal(secretKey(''), null);
    assert.equal(secretKey(new Uint8Array(0)), null);
    assert.equal(secretKey(undefined), null);
  });
});
