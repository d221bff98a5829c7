// Peer addresses: "host:port", "[v6]:port". Parsing, formatting, the ws URL to dial,
// and name resolution for "localhost" that tries both loopback families.
import { isIP, type LookupFunction } from 'node:net';
import { NetError } from './errors.ts';

export interface PeerAddress {
  /** Host name or IP literal, without brackets, lower-cased. */
  host: string;
  port: number;
  /** Canonical "host:port" / "[v6]:port": the key that de-duplicates dial targets. */
  text: string;
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parsePeerAddress(input: string): PeerAddress {
  const s = input.trim();
  const bad = (why: string) =>
    new NetError('ERR_BAD_PEER_ADDRESS', `bad peer address "${input}": ${why}`, { peer: input });
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') throw bad('expected [v6]:port');
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (isIP(host) !== 6) throw bad('not an IPv6 address in brackets');
  } else {
    const colon = s.lastIndexOf(':');
    if (colon <= 0) throw bad('expected host:port');
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) throw bad('IPv6 addresses need brackets: [v6]:port');
    if (!/^[A-Za-z0-9._-]+$/.test(host)) throw bad('invalid host name');
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad('invalid port');
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad('port out of range');
  host = host.toLowerCase();
  return { host, port, text: formatHostPort(host, port) };
}

export function wsUrl(addr: PeerAddress, tls: boolean, path = '/ws'): string {
  const host = isIP(addr.host) === 6 ? `[${addr.host}]` : addr.host;
  return `${tls ? 'wss' : 'ws'}://${host}:${addr.port}${path}`;
}

/** "ip:port" of a socket's remote end, v6 in brackets; "?" parts when unknown. */
export function remoteOf(socket: {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}): string {
  const ip = socket.remoteAddress ?? '?';
  return formatHostPort(ip.startsWith('::ffff:') ? ip.slice(7) : ip, socket.remotePort ?? 0);
}

/**
 * "localhost" means the loopback interface in either family, whatever the hosts file says
 * (many list only 127.0.0.1, some only ::1). Answering with both lets Node's
 * autoSelectFamily try each, so a peer listening on only one of them is still reached.
 */
export const localhostLookup: LookupFunction = (_hostname, options, callback) => {
  const f = options.family;
  const family = f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : (f ?? 0);
  const all = [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ].filter((a) => family === 0 || family === a.family);
  const cb = callback as (err: Error | null, address: unknown, family?: number) => void;
  if (options.all) cb(null, all);
  else cb(null, all[0]?.address, all[0]?.family);
};
