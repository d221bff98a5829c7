// The counting proxies of a pair whose two sides both dial: one proxy per dialling side,
// bytes summed per direction (a to b = what a sends on its own link plus what b receives
// on the link b opened).
import { startProxy, type TcpProxy } from '../../test/harness/proxy.ts';

export interface ProxyPair {
  /** Port side a dials to reach b. */
  readonly toB: number;
  /** Port side b dials to reach a. */
  readonly toA: number;
  bytes(): { aToB: number; bToA: number };
  reset(): void;
  close(): Promise<void>;
}

export async function proxyPair(portA: number, portB: number): Promise<ProxyPair> {
  const ab: TcpProxy = await startProxy({ target: { host: '127.0.0.1', port: portB } });
  const ba: TcpProxy = await startProxy({ target: { host: '127.0.0.1', port: portA } });
  return {
    toB: ab.port,
    toA: ba.port,
    bytes: () => ({ aToB: ab.bytes.up + ba.bytes.down, bToA: ab.bytes.down + ba.bytes.up }),
    reset: () => {
      ab.resetCounters();
      ba.resetCounters();
    },
    close: async () => {
      await ab.close();
      await ba.close();
    },
  };
}

/** A single proxy for one-way tools: a dials, b listens. */
export async function proxyOneWay(portB: number): Promise<ProxyPair> {
  const p = await startProxy({ target: { host: '127.0.0.1', port: portB } });
  return {
    toB: p.port,
    toA: -1,
    bytes: () => ({ aToB: p.bytes.up, bToA: p.bytes.down }),
    reset: () => p.resetCounters(),
    close: () => p.close(),
  };
}
