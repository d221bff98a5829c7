// Vector clocks as exact sets of dots. A clock covers every dot (o, s) with s <= vv[o],
// except the dots listed in `except`. Plain log clocks have no exceptions; a version's
// history needs them when it deliberately does not descend from an older sibling of its
// own origin (see DESIGN.md, "Why clocks have exceptions"). All functions are pure and
// return canonical clocks: no zero entries, exceptions sorted, deduplicated and within vv,
// and no excepted dot at the top of a range (vv is lowered instead).
import type { Clock, Dot } from '../proto/types.ts';

export type Order = 'equal' | 'before' | 'after' | 'concurrent';

export function emptyClock(): Clock {
  return { vv: {}, except: [] };
}

export function dotKey(d: Dot): string {
  return `${d.origin}:${d.seq}`;
}

export function sameDot(a: Dot | null | undefined, b: Dot | null | undefined): boolean {
  return !!a && !!b && a.origin === b.origin && a.seq === b.seq;
}

// Exception lookups by set, built once per clock object (clocks are never mutated), so that
// clocks with many exceptions (hostile or not) cost linear, not quadratic, time.
const exceptSets = new WeakMap<Clock, Set<string>>();
function exceptSet(c: Clock): Set<string> {
  let set = exceptSets.get(c);
  if (!set) {
    set = new Set(c.except.map(dotKey));
    exceptSets.set(c, set);
  }
  return set;
}

export function covers(c: Clock, d: Dot): boolean {
  const top = c.vv[d.origin] ?? 0;
  if (d.seq < 1 || d.seq > top) return false;
  if (c.except.length === 0) return true;
  if (c.except.length < 8) {
    for (const e of c.except) if (e.origin === d.origin && e.seq === d.seq) return false;
    return true;
  }
  return !exceptSet(c).has(dotKey(d));
}

// The loops below copy with for-in, not Object.entries: the same keys in the same order
// for a plain object, without an array per entry (a folder rename joins and normalises
// ~4,000 clocks on each side, much of it before the JIT has compiled these functions).

/** Canonical form of any clock-like value (also used to sanitise decoded input). */
export function normalize(c: Clock): Clock {
  const vv: Record<string, number> = {};
  const src = c.vv;
  for (const o in src) {
    const n = src[o]!;
    if (n > 0) vv[o] = n;
  }
  if (c.except.length === 0) return { vv: sortKeys(vv), except: [] };
  const byOrigin = new Map<string, Set<number>>();
  for (const e of c.except) {
    if (e.seq < 1 || e.seq > (vv[e.origin] ?? 0)) continue;
    const set = byOrigin.get(e.origin) ?? new Set<number>();
    byOrigin.set(e.origin, set);
    set.add(e.seq);
  }
  const except: Dot[] = [];
  for (const [origin, seqs] of byOrigin) {
    let top = vv[origin] ?? 0;
    while (top > 0 && seqs.has(top)) seqs.delete(top--);
    if (top === 0) delete vv[origin];
    else vv[origin] = top;
    for (const seq of seqs) except.push({ origin, seq });
  }
  except.sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.seq - b.seq));
  return { vv: sortKeys(vv), except };
}

/** vv with its keys in sorted order: vv itself when they already are (vv is the caller's own copy). */
function sortKeys(vv: Record<string, number>): Record<string, number> {
  const keys = Object.keys(vv);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! < keys[i]!;
  if (sorted) return vv;
  const out: Record<string, number> = {};
  for (const k of keys.sort()) out[k] = vv[k]!;
  return out;
}

/** The union of the dot sets of a and b. */
export function join(a: Clock, b: Clock): Clock {
  const vv: Record<string, number> = {};
  const av = a.vv;
  const bv = b.vv;
  for (const o in av) vv[o] = av[o]!;
  for (const o in bv) {
    const n = bv[o]!;
    if (n > (vv[o] ?? 0)) vv[o] = n;
  }
  if (a.except.length === 0 && b.except.length === 0) return { vv: sortKeys(vv), except: [] };
  const except: Dot[] = [];
  for (const e of [...a.except, ...b.except]) {
    if (!covers(a, e) && !covers(b, e)) except.push(e);
  }
  // Dots above one side's range are covered only if the other side covers them, which
  // `covers` already decided; dots above both ranges are not in vv at all.
  return normalize({ vv, except });
}

export function joinAll(clocks: Iterable<Clock>): Clock {
  let acc: Clock = emptyClock();
  for (const c of clocks) acc = join(acc, c);
  return acc;
}

/** a ⊆ b as dot sets. */
export function leq(a: Clock, b: Clock): boolean {
  for (const [o, top] of Object.entries(a.vv)) {
    const other = b.vv[o] ?? 0;
    if (top > other) {
      // Every dot of a in (other, top] must be an exception of a.
      let excepted = 0;
      for (const e of a.except) if (e.origin === o && e.seq > other) excepted++;
      if (excepted < top - other) return false;
    }
  }
  for (const e of b.except) if (covers(a, e)) return false;
  return true;
}

export function compare(a: Clock, b: Clock): Order {
  const ab = leq(a, b);
  const ba = leq(b, a);
  if (ab && ba) return 'equal';
  if (ab) return 'before';
  if (ba) return 'after';
  return 'concurrent';
}

/**
 * Add one dot of the clock's own replica. Raising vv[origin] also covers that origin's
 * earlier dots; that is intended for dots of other paths (irrelevant to a version's
 * history), so the caller lists in `except` the dots of its own that must stay uncovered:
 * live siblings of the path that the new version does not replace.
 */
export function withDot(c: Clock, d: Dot, except: readonly Dot[] = []): Clock {
  const vv: Record<string, number> = { ...c.vv };
  if (d.seq > (vv[d.origin] ?? 0)) vv[d.origin] = d.seq;
  const kept = c.except.filter((e) => !(e.origin === d.origin && e.seq === d.seq));
  return normalize({
    vv,
    except: [...kept, ...except.filter((e) => !(e.origin === d.origin && e.seq === d.seq))],
  });
}

/** The clock minus these dots (those it covers become exceptions). */
export function without(c: Clock, dots: readonly Dot[]): Clock {
  const drop = dots.filter((d) => covers(c, d));
  return drop.length ? normalize({ vv: c.vv, except: [...c.except, ...drop] }) : c;
}

/** A clock without exceptions minus the dot at the top of its origin's range, in canonical form. */
export function withoutTop(c: Clock, d: Dot): Clock {
  const vv: Record<string, number> = {};
  const src = c.vv;
  for (const o in src) {
    const n = o === d.origin ? src[o]! - 1 : src[o]!;
    if (n > 0) vv[o] = n;
  }
  return { vv: sortKeys(vv), except: [] };
}

/** The clock of a single dot (and, by the rule above, its origin's earlier dots). */
export function ofDot(d: Dot): Clock {
  return withDot(emptyClock(), d);
}

/** Max contiguous counter per origin: for plain log clocks. */
export function get(c: Clock, origin: string): number {
  return c.vv[origin] ?? 0;
}

export function equals(a: Clock, b: Clock): boolean {
  return compare(a, b) === 'equal';
}
