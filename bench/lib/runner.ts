// Runs one scenario against each system in turn, each on a fresh pair, and turns every
// failure into a reported status: a rival that breaks never takes our figures with it.
import type { Pair, System } from '../rivals/types.ts';
import type { Ctx, PairScenario, SoloScenario } from '../scenarios/types.ts';
import { cleanupBetween } from './cleanup.ts';
import type { SystemResult } from './figures.ts';

const SCENARIO_TIMEOUT_MS = 20 * 60_000;

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: gave up after ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function runOnPair(
  s: PairScenario,
  sys: System,
  ctx: Ctx,
  profileDir?: string,
): Promise<SystemResult> {
  let pair: Pair | null = null;
  const t = Date.now();
  try {
    ctx.log(`[${s.id}] ${sys.label}: starting a fresh pair`);
    pair = await withTimeout(
      sys.start({ scenario: s.id, ...(profileDir ? { profileDir } : {}) }),
      180_000,
      `${sys.label} start`,
    );
    const r = await withTimeout(s.run(pair, ctx), SCENARIO_TIMEOUT_MS, `${s.id} on ${sys.label}`);
    ctx.log(`[${s.id}] ${sys.label}: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return { status: 'ok', figures: r.figures, ...(r.detail ? { detail: r.detail } : {}) };
  } catch (err) {
    ctx.log(`[${s.id}] ${sys.label}: FAILED: ${message(err)}`);
    return { status: 'failed', reason: message(err), figures: {} };
  } finally {
    await pair
      ?.stop()
      .catch((err: unknown) => ctx.log(`[${s.id}] ${sys.label}: stop failed: ${message(err)}`));
    await cleanupBetween();
  }
}

export async function runSolo(s: SoloScenario, ctx: Ctx, profileDir?: string): Promise<SystemResult> {
  const t = Date.now();
  try {
    ctx.log(`[${s.id}] running`);
    const r = await withTimeout(
      s.run({ ...ctx, ...(profileDir ? { profileDir } : {}) }),
      SCENARIO_TIMEOUT_MS,
      s.id,
    );
    ctx.log(`[${s.id}] done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return r;
  } catch (err) {
    ctx.log(`[${s.id}] FAILED: ${message(err)}`);
    return { status: 'failed', reason: message(err), figures: {} };
  } finally {
    await cleanupBetween();
  }
}
