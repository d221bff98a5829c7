// What the reconciler does when an action fails, decided from the error alone: a pure rule,
// so that every kind of failure is tested without a disk that fails on cue.
import { ContentUnavailableError } from './content.ts';
import { LocalChangeError } from './disk-steps.ts';
import type { Action } from './plan.ts';

export type FailureOutcome =
  /** The user changed the disk under the action: wait until the detector has recorded it. */
  | { kind: 'mismatch'; paths: string[] }
  /** No peer has the content now (its source changed): wait for a newer version, quietly. */
  | { kind: 'wait' }
  /** Most likely an ordering effect within the batch: one more round sorts it out. */
  | { kind: 'again' }
  /** Anything else (disk full, permissions, I/O): retry with growing delays, and say so. */
  | { kind: 'retry'; error: string };

/** Errors of steps that depend on another step of the same batch having run first. */
const ORDERING = new Set(['ERR_NOT_FOUND', 'ERR_EXISTS', 'ERR_NOT_EMPTY', 'ERR_PARENT']);

/** `againAllowed`: this head has not had its one extra round yet. */
export function failureOutcome(err: unknown, path: string, againAllowed: boolean): FailureOutcome {
  if (err instanceof LocalChangeError) return { kind: 'mismatch', paths: [path, err.path] };
  if (err instanceof ContentUnavailableError) return { kind: 'wait' };
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ORDERING.has(code) && againAllowed) return { kind: 'again' };
  const message = (err as { message?: unknown } | null)?.message;
  return { kind: 'retry', error: typeof message === 'string' && message ? message : String(code ?? err) };
}

/** The path an action changes on disk (a move's target). */
export function actionPath(a: Action): string {
  return a.kind === 'move' || a.kind === 'moveDir' ? a.to : a.path;
}

/** The head an action serves. */
export function actionHead(a: Action): string {
  return 'headPath' in a ? a.headPath : a.expect.headPath;
}

/** Heads to plan again after an action failed: a move's sources must still be dealt with. */
export function sourcesOf(a: Action): string[] {
  if (a.kind === 'move') return [a.expect.headPath];
  if (a.kind === 'moveDir')
    return [a.expect.headPath, ...a.children.flatMap((c) => [c.headPath, c.expect.headPath])];
  return [];
}

/** Remembers keys (up to `max`, then starts over): whether one is seen for the first time. */
export class FirstSeen {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  first(key: string): boolean {
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.max) this.seen.clear();
    this.seen.add(key);
    return true;
  }
}
