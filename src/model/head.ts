// The head of one path as a multi-value register: the live versions are those that no
// version seen here has in its history. `covered` is the union of the histories (without
// their own dots) of every version ever applied, so the live set is a pure function of the
// set of versions seen, whatever their arrival order, and re-applying one changes nothing.
import { covers, emptyClock, join, normalize, sameDot, withoutTop } from '../clock/vector.ts';
import type { Clock, Dot, Head, Version } from '../proto/types.ts';

export function emptyHead(): Head {
  return { versions: [], accepted: null, covered: emptyClock() };
}

/** v's history without v itself: the versions v replaces. */
export function pastOf(v: Version): Clock {
  const c = v.clock;
  const d = v.dot;
  if (!covers(c, d)) return c;
  // The usual case: v's dot tops its origin's range in a clock without exceptions, and
  // normalize would lower that range by one. Done directly (a test holds it to normalize).
  if (c.except.length === 0 && c.vv[d.origin] === d.seq) return withoutTop(c, d);
  return normalize({ vv: c.vv, except: [...c.except, d] });
}

export interface ApplyResult {
  head: Head;
  /** v is among the live versions afterwards. */
  live: boolean;
  /** Previously live versions that v replaced. */
  replaced: Version[];
  /** This replica accepted v as the path's head (it descends from the last accepted). */
  accepted: boolean;
}

export function applyVersion(head: Head, v: Version): ApplyResult {
  if (head.versions.some((w) => sameDot(w.dot, v.dot))) {
    return { head, live: true, replaced: [], accepted: sameDot(head.accepted, v.dot) };
  }
  const covered = join(head.covered, pastOf(v));
  // A version some seen version already replaced can never be live, nor accepted.
  const live = !covers(head.covered, v.dot);
  const kept: Version[] = [];
  const replaced: Version[] = [];
  for (const w of head.versions) (covers(covered, w.dot) ? replaced : kept).push(w);
  if (live) kept.push(v);
  const accepted = live && (head.accepted === null || covers(v.clock, head.accepted));
  return {
    head: { versions: kept, covered, accepted: accepted ? v.dot : head.accepted },
    live,
    replaced,
    accepted,
  };
}

/** Apply versions in order; for tests and for rebuilding a head from the log. */
export function applyAll(head: Head, versions: Iterable<Version>): Head {
  let h = head;
  for (const v of versions) h = applyVersion(h, v).head;
  return h;
}

export function findVersion(head: Head, dot: Dot): Version | undefined {
  return head.versions.find((v) => sameDot(v.dot, dot));
}
