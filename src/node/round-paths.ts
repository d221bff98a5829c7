// The paths of one reconcile round: the disk slots its head paths cover (each laid out as
// winner and conflict copies, beside whatever the index still has there), and, once they
// are planned, the paths its actions touch or move away from (busy while it runs).
import type { Store } from '../log/store.ts';
import { type CommitOracle, layoutOf } from './layout.ts';
import type { Action, Slot } from './plan.ts';

export function slotsFor(store: Store, headPaths: string[], isCommitted: CommitOracle): Slot[] {
  const slots = new Map<string, Slot>();
  for (const headPath of headPaths) {
    const layout = layoutOf(store, headPath, isCommitted);
    for (const p of [layout.main, ...layout.copies]) {
      if (!p) continue;
      slots.set(p.diskPath, {
        diskPath: p.diskPath,
        headPath,
        desired: p.version,
        current: store.getFile(p.diskPath),
      });
    }
    for (const diskPath of [headPath, ...store.copiesOf(headPath)]) {
      if (slots.has(diskPath)) continue;
      const current = store.getFile(diskPath);
      if (current && current.headPath !== headPath) continue; // belongs to another path
      slots.set(diskPath, { diskPath, headPath, desired: undefined, current });
    }
  }
  return [...slots.values()];
}

/** Paths the actions write, make, remove or move to (a moved folder's children included). */
export function touchedBy(actions: readonly Action[]): string[] {
  return actions.flatMap((a) =>
    a.kind === 'moveDir' ? [a.to, ...a.children.map((c) => c.to)] : [a.kind === 'move' ? a.to : a.path],
  );
}

/** Paths the actions move away from: the moves' sources, then the moved folders' children. */
export function movedFrom(actions: readonly Action[]): string[] {
  const out: string[] = [];
  for (const a of actions) if (a.kind === 'move' || a.kind === 'moveDir') out.push(a.from);
  for (const a of actions) if (a.kind === 'moveDir') for (const c of a.children) out.push(c.from);
  return out;
}

/** The first 20 actions, for the debug log. */
export function describeActions(actions: readonly Action[]): string {
  return actions
    .slice(0, 20)
    .map((a) =>
      a.kind === 'move' || a.kind === 'moveDir' ? `${a.kind} ${a.from}->${a.to}` : `${a.kind} ${a.path}`,
    )
    .join(', ');
}
