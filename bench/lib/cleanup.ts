// Whatever happens - a failed scenario, an exception, Ctrl-C - every daemon, rival process,
// proxy and temp folder this run started goes away. The harness's own 'exit' hooks are the
// synchronous last resort (SIGKILL the daemons, remove the folders).
import { cleanupHarness } from '../../test/harness/cleanup.ts';
import { killAllProcsSync, stopAllProcs } from './procs.ts';

let cleaning: Promise<void> | null = null;

export function cleanupEverything(): Promise<void> {
  cleaning ??= (async () => {
    await stopAllProcs().catch(() => {});
    await cleanupHarness().catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
  })();
  return cleaning;
}

/** Remove this run's temp folders now (between scenarios: big files take disk space). */
export async function cleanupBetween(): Promise<void> {
  const { cleanupAll } = await import('../../test/harness/tmp.ts');
  await cleanupAll().catch(() => {});
}

export function installSignalHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping everything and removing temp folders...\n`);
      const hard = setTimeout(() => process.exit(130), 20_000);
      hard.unref();
      void cleanupEverything().finally(() => process.exit(130));
    });
  }
  process.once('exit', killAllProcsSync);
}
