// TLS with pinned self-signed certificates: pinned peers link over wss, a certificate that
// is not pinned is refused on whichever side checks it. Certificates are made with the
// openssl CLI into a temporary directory; without openssl the tests are skipped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { certFingerprint, normalizeFingerprint } from '../../src/net/auth.ts';
import { blockRequest, closeAll, hasIpv6Loopback, startNode, type TestNode, waitFor } from './helpers.ts';

interface Cert {
  cert: string;
  key: string;
  /** As `openssl x509 -fingerprint -sha256` prints it: upper-case hex with colons. */
  fingerprint: string;
}

const dir = mkdtempSync(join(tmpdir(), 'resonate-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function makeCert(name: string): Cert | null {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
      ].concat(['-subj', `/CN=${name}`, '-keyout', key, '-out', cert]),
      { stdio: 'ignore' },
    );
  } catch {
    return null;
  }
  const pem = readFileSync(cert, 'utf8');
  return { cert: pem, key: readFileSync(key, 'utf8'), fingerprint: new X509Certificate(pem).fingerprint256 };
}

const certA = makeCert('node-a');
const certB = makeCert('node-b');
const certC = makeCert('node-c');
const skip = certA && certB && certC ? false : 'openssl CLI not available: cannot make test certificates';

const nodes: TestNode[] = [];
async function node(id: string, opts: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, opts);
  nodes.push(n);
  return n;
}
after(() => closeAll(...nodes));

test('fingerprints: colons and case do not matter', { skip }, () => {
  const fp = certA!.fingerprint;
  const der = new X509Certificate(certA!.cert).raw;
  assert.equal(normalizeFingerprint(fp), certFingerprint(der));
  assert.equal(normalizeFingerprint(fp.replace(/:/g, '').toLowerCase()), certFingerprint(der));
  assert.throws(() => normalizeFingerprint('abc'), { code: 'ERR_BAD_OPTIONS' });
});

test('TLS with pinned fingerprints links over wss, with a secret as well', { skip }, async () => {
  const pins = [certA!.fingerprint, certB!.fingerprint];
  // a listens on both loopbacks; b dials the second one (a forwarded listener), over IPv6
  // when the machine has it.
  const v6 = await hasIpv6Loopback();
  const a = await node('tls-a', {
    tls: certA!,
    peerFingerprints: pins,
    secret: 'k',
    listenHosts: v6 ? ['127.0.0.1', '::1'] : ['127.0.0.1'],
  });
  const b = await node('tls-b', {
    tls: certB!,
    peerFingerprints: pins,
    secret: 'k',
    peers: [v6 ? `[::1]:${a.t.address().port}` : a.addr],
  });
  assert.equal(a.t.address().tls, true);
  await waitFor(() => a.links.has('tls-b') && b.links.has('tls-a'), 'linked over TLS');
  b.links.get('tls-a')!.send(blockRequest(5));
  await waitFor(() => a.frames.get('tls-b')?.length === 1, 'frame over TLS');
  // The HTTP side is served over https too (no client certificate needed there).
  const status = await new Promise<number>((resolve, reject) => {
    get({ host: '127.0.0.1', port: a.t.address().port, path: '/x', rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(status, 404);
});

test('the accepting side refuses a client certificate that is not pinned', { skip }, async () => {
  // a pins only b; c presents its own certificate and pins a (so c would accept a).
  const a = await node('tls-a2', { tls: certA!, peerFingerprints: [certB!.fingerprint] });
  const c = await node('tls-c2', { tls: certC!, peerFingerprints: [certA!.fingerprint], peers: [a.addr] });
  await waitFor(
    () => a.log.count(/refused peer.*client certificate [0-9a-f]{64} is not pinned/) === 1,
    'a refuses',
  );
  await waitFor(
    () => c.log.count(/peer refused us.*HTTP 403: client certificate not pinned/) === 1,
    'c told',
  );
  assert.equal(a.opened + c.opened, 0);
});

test('the dialling side refuses a server certificate that is not pinned', { skip }, async () => {
  // a accepts c's certificate, but c pins only b: c must not talk to a.
  const a = await node('tls-a3', { tls: certA!, peerFingerprints: [certC!.fingerprint] });
  const c = await node('tls-c3', { tls: certC!, peerFingerprints: [certB!.fingerprint], peers: [a.addr] });
  await waitFor(
    () => c.log.count(/refused peer.*server certificate [0-9a-f]{64} is not pinned/) === 1,
    'c refuses',
  );
  await waitFor(() => a.log.count(/peer refused us.*certificate not pinned/) === 1, 'a told');
  assert.equal(a.opened + c.opened, 0);
});
