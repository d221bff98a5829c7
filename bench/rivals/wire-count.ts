// How a pair's bytes on the wire are counted: by nftables counters on the ports when this
// process may (root, `nft` installed; nft-counter.ts), else by counting proxies, one per
// dialling side, bytes summed per direction (a to b = what a sends on its own link plus
// what b receives on the link b opened). `--proxy` forces the proxies.
import { startProxy, type TcpProxy } from '../../test/harness/proxy.ts';
import { nftCounter, nftUsable } from './nft-counter.ts';

export interface WireCount {
  /** Port side a dials to reach b (b's own port when nothing relays). */
  readonly toB: number;
  /** Port side b dials to reach a. */
  readonly toA: number;
  /** Payload bytes each way since the last reset. */
  bytes(): { aToB: number; bToA: number };
  reset(): void;
  close(): Promise<void>;
}

export type WireMethod = 'nft' | 'proxy';

let forceProxy = false;

export function useProxy(on: boolean): void {
  forceProxy = on;
}

/** The method pairs started from now on use. */
export function wireMethod(): WireMethod {
  return !forceProxy && nftUsable() ? 'nft' : 'proxy';
}

/** A pair whose two sides both listen (on portA, portB) and dial each other. */
export async function countPair(portA: number, portB: number): Promise<WireCount> {
  if (wireMethod() === 'nft') return { toB: portB, toA: portA, ...nftCounter([portA], [portB]) };
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

/** One-way tools: a dials, b listens on portB. */
export async function countOneWay(portB: number): Promise<WireCount> {
  if (wireMethod() === 'nft') return { toB: portB, toA: -1, ...nftCounter([], [portB]) };
  const p = await startProxy({ target: { host: '127.0.0.1', port: portB } });
  return {
    toB: p.port,
    toA: -1,
    bytes: () => ({ aToB: p.bytes.up, bToA: p.bytes.down }),
    reset: () => p.resetCounters(),
    close: () => p.close(),
  };
}
