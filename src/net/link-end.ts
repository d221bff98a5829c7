// How a link ended, as told to the transport (its log line, the dialler's back-off): who
// ended it, with which close code and reason, and how long it had been linked.
import { CloseCode } from './errors.ts';
import type { Refusal } from './handshake.ts';

export interface LinkEnd {
  code: number;
  reason: string;
  /** local: we closed it (refusals included); peer: its close frame; network: the socket failed. */
  by: 'local' | 'peer' | 'network';
  /** Our verdict on the peer, when we refused it during the handshake. */
  refusal: Refusal | null;
  /** It was handed to the core (verified and admitted). */
  linked: boolean;
  /** How long it was linked (0 if never). */
  upMs: number;
}

/** The end a socket error makes. */
export function errorEnd(err: Error): Omit<LinkEnd, 'linked' | 'upMs'> {
  // ws reports protocol violations (too big, bad opcode, ...) with WS_ERR_* codes and then
  // closes with the matching status; anything else is the network.
  const code = (err as { code?: unknown }).code;
  const protocol = typeof code === 'string' && code.startsWith('WS_ERR_');
  return {
    code: protocol ? CloseCode.BadFrame : 1006,
    reason: protocol ? `protocol error: ${err.message}` : `socket error: ${err.message}`,
    by: protocol ? 'local' : 'network',
    refusal: null,
  };
}

/** The end a closed socket makes (1006: no close frame came; `lastError` says why, if known). */
export function socketCloseEnd(
  code: number,
  reason: string,
  lastError: Error | null,
): Omit<LinkEnd, 'linked' | 'upMs'> {
  const byPeer = code !== 1006;
  return {
    code,
    reason: byPeer
      ? reason || `closed by peer (code ${code})`
      : lastError
        ? `connection lost: ${lastError.message}`
        : 'connection lost',
    by: byPeer ? 'peer' : 'network',
    refusal: null,
  };
}
