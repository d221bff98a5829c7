// Small parts of the transport on a virtual clock: addresses, backoff, the dialler's
// schedule and parking, log rate limiting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatHostPort, parsePeerAddress, wsUrl } from '../../src/net/address.ts';
import { Backoff } from '../../src/net/backoff.ts';
import { Dialer, type DialerContext } from '../../src/net/dialer.ts';
import { CloseCode, closeReason } from '../../src/net/errors.ts';
import type { LinkEnd } from '../../src/net/link-end.ts';
import { LogLimiter } from '../../src/net/log-limit.ts';
import type { Env } from '../../src/util/env.ts';
import { silentLogger } from '../../src/util/logger.ts';

/** Virtual time; random() returns zeros so jitter is predictable. */
function virtualEnv() {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const env: Env = {
    now: () => now,
    setTimer(ms, fn) {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return { cancel: () => (t.live = false) };
    },
    random: (n) => new Uint8Array(n), // zeros: jitter picks exactly d/2
  };
  /** Run the next live timer; returns the delay it had from `now`. */
  const next = (): number | null => {
    const live = timers.filter((t) => t.live).sort((a, b) => a.at - b.at);
    const t = live[0];
    if (!t) return null;
    t.live = false;
    const waited = t.at - now;
    now = t.at;
    t.fn();
    return waited;
  };
  return { env, next, advance: (ms: number) => (now += ms) };
}

describe('addresses', () => {
  test('host:port, [v6]:port and bad input', () => {
    assert.deepEqual(parsePeerAddress('Example.com:4000'), {
      host: 'example.com',
      port: 4000,
      text: 'example.com:4000',
    });
    assert.deepEqual(parsePeerAddress('[::1]:80'), { host: '::1', port: 80, text: '[::1]:80' });
    assert.equal(wsUrl(parsePeerAddress('[::1]:80'), true), 'wss://[::1]:80/ws');
    assert.equal(formatHostPort('fe80::1', 1), '[fe80::1]:1');
    for (const bad of ['::1:80', 'host', 'host:0', 'host:70000', '[::1]80', '[nothost]:1', 'a b:1', ':80']) {
      assert.throws(() => parsePeerAddress(bad), { code: 'ERR_BAD_PEER_ADDRESS' }, bad);
    }
  });

  test('close reasons are cut to 123 bytes on a character boundary', () => {
    const r = closeReason('é'.repeat(100));
    assert.ok(Buffer.byteLength(r) <= 123);
    assert.ok(!r.includes('\uFFFD'));
  });
});

describe('backoff', () => {
  test('doubles from the initial delay to the cap, with jitter in [d/2, d)', () => {
    const { env } = virtualEnv();
    const b = new Backoff(env, { initialMs: 100, maxMs: 5000 });
    const delays = Array.from({ length: 9 }, () => b.next());
    assert.deepEqual(delays, [50, 100, 200, 400, 800, 1600, 2500, 2500, 2500]);
    assert.equal(b.next(60_000), 25_600); // a higher cap for refusals
    b.reset();
    assert.equal(b.next(), 50);
  });
});

describe('dialer', () => {
  const end = (e: Partial<LinkEnd>): LinkEnd => ({
    code: 1006,
    reason: 'x',
    by: 'network',
    refusal: null,
    linked: false,
    upMs: 0,
    ...e,
  });

  function setup(linked: Set<string>, ourNodeId = 'm') {
    const v = virtualEnv();
    let attempts = 0;
    const ctx: DialerContext = {
      env: v.env,
      logger: silentLogger,
      limiter: new LogLimiter(v.env),
      ourNodeId,
      backoff: { initialMs: 100, maxMs: 5000, refusedMaxMs: 60_000, stableMs: 10_000 },
      isLinked: (id) => linked.has(id),
      attempt: () => attempts++,
      abort: () => {},
    };
    const d = new Dialer(parsePeerAddress('peer:1'), ctx);
    return { ...v, d, attempts: () => attempts };
  }

  test('backs off on failures, harder on refusals, resets after a stable link', () => {
    const { d, next, attempts, advance } = setup(new Set());
    d.start();
    assert.equal(next(), 0);
    assert.equal(attempts(), 1);
    d.failed('ECONNREFUSED', false);
    assert.equal(next(), 50);
    d.failed('ECONNREFUSED', false);
    assert.equal(next(), 100);
    d.ended(end({ code: CloseCode.Auth, by: 'peer', reason: 'wrong secret' }), 'n');
    assert.equal(next(), 200);
    assert.equal(d.status().failures, 3);
    // A link that stays up long enough resets the backoff when it ends.
    d.admitted('n');
    advance(20_000);
    d.ended(end({ linked: true, upMs: 20_000 }), 'n');
    assert.equal(next(), 50);
    assert.equal(attempts(), 5);
  });

  test('parks while another link to the node exists, resumes when it is gone', () => {
    const linked = new Set<string>();
    const { d, next, attempts } = setup(linked, 'z'); // larger id: yields 250 ms
    d.start();
    next();
    // Our connection lost the duplicate race: the node is linked through the other one.
    linked.add('n');
    d.ended(end({ code: CloseCode.Duplicate, by: 'peer' }), 'n');
    next();
    assert.equal(d.status().state, 'parked');
    assert.equal(attempts(), 1);
    assert.equal(next(), null, 'nothing scheduled while parked');
    linked.delete('n');
    d.peerGone('n');
    assert.equal(next(), 50 + 250);
    assert.equal(attempts(), 2);
  });

  test('stops for good when the address is this node', () => {
    const { d, next, attempts } = setup(new Set());
    d.start();
    next();
    d.ended(
      end({ refusal: { kind: 'self', code: CloseCode.Self, reason: 'self', wire: 'self' }, by: 'local' }),
      'm',
    );
    assert.equal(d.status().state, 'self');
    assert.equal(next(), null);
    assert.equal(attempts(), 1);
  });
});

describe('log limiter', () => {
  test('one line per key per window, then a count of what was suppressed', () => {
    const { env, advance } = virtualEnv();
    const l = new LogLimiter(env, 1000);
    assert.deepEqual(l.allow('k'), { suppressed: 0 });
    assert.equal(l.allow('k'), null);
    assert.equal(l.allow('k'), null);
    assert.deepEqual(l.allow('other'), { suppressed: 0 });
    advance(1000);
    assert.deepEqual(l.allow('k'), { suppressed: 2 });
    l.clear('k');
    assert.deepEqual(l.allow('k'), { suppressed: 0 });
  });
});
