// Polling instead of fixed sleeps: a test states the condition it needs and waits exactly
// as long as that takes, and on timeout the error says what was awaited and what was seen.
import { inspect } from 'node:util';
import { TimeoutError } from './errors.ts';

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between polls (default 20 ms). */
  intervalMs?: number;
  /** What was awaited, for the error ("node 1 has a.txt"). */
  message?: string;
  /** Extra state to print on timeout (e.g. a tree diff); called once, at the end. */
  describe?: () => unknown;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const HUNG: unique symbol = Symbol('hung');

/** p, or HUNG if it is still pending at the deadline (the timer is cleared either way). */
async function raceDeadline<T>(p: T | Promise<T>, deadline: number): Promise<T | typeof HUNG> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<typeof HUNG>((r) => {
        timer = setTimeout(() => r(HUNG), Math.max(0, deadline - Date.now()));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : inspect(v, { depth: 4, breakLength: 100 });
}

/**
 * Poll fn until it returns a truthy value and return that value. A throw from fn counts
 * as "not yet" (files that do not exist yet, a daemon still starting) and is reported if
 * it was the last thing seen.
 */
export async function waitForValue<T>(
  fn: () => T | null | undefined | false | 0 | '' | Promise<T | null | undefined | false | 0 | ''>,
  opts: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 20, message = 'condition' } = opts;
  const start = Date.now();
  const deadline = start + timeoutMs;
  let last: { value: unknown } | { error: unknown } = { value: undefined };
  let polls = 0;
  for (;;) {
    polls++;
    try {
      // A single hung poll must not outlive the deadline.
      const value = await raceDeadline(fn(), deadline);
      if (value === HUNG) last = { error: new Error('poll still running at the deadline') };
      else if (value) return value as T;
      else last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const seen =
    'error' in last
      ? `last poll threw: ${last.error instanceof Error ? last.error.message : show(last.error)}`
      : `last value: ${show(last.value)}`;
  let text = `timed out after ${Date.now() - start} ms (${polls} polls) waiting for ${message}; ${seen}`;
  if (opts.describe) {
    try {
      text += `\nstate: ${show(await opts.describe())}`;
    } catch (error) {
      text += `\nstate: (describe threw: ${error instanceof Error ? error.message : show(error)})`;
    }
  }
  throw new TimeoutError(text);
}

/** Poll check until it returns true; throws TimeoutError with message and last state. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  opts: WaitOptions = {},
): Promise<void> {
  await waitForValue(async () => (await check()) || undefined, opts);
}
