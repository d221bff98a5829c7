// One `after(cleanupHarness)` for test files: daemons first (so nothing writes into the
// folders being removed), then proxies, then temp folders.
import { stopAll } from './daemon.ts';
import { closeAllProxies } from './proxy.ts';
import { cleanupAll } from './tmp.ts';

export async function cleanupHarness(): Promise<void> {
  await stopAll();
  await closeAllProxies();
  await cleanupAll();
}
