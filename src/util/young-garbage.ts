// Large received messages are short-lived memory outside V8's heap (each socket read and
// each assembled WebSocket message is its own ArrayBuffer), while the JavaScript objects
// holding them are tiny: the young generation fills so slowly that hundreds of MiB pass
// between scavenges, and their dead buffers pile up until V8's external-memory limit
// forces a full collection. A scavenge frees them; one is asked for every SCAVENGE_EVERY
// bytes. Needs --expose-gc (the launcher's shebang); without it, nothing happens.
const SCAVENGE_EVERY = 8 * 1024 * 1024;

type Gc = (o: { type: 'minor'; execution?: 'async' | 'sync' }) => void;
const gc = (globalThis as { gc?: Gc }).gc;
let since = 0;

/** `bytes` of short-lived buffers were just allocated. */
export function noteYoungBuffers(bytes: number): void {
  if (gc === undefined) return;
  since += bytes;
  if (since < SCAVENGE_EVERY) return;
  since = 0;
  gc({ type: 'minor' });
}
