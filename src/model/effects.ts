// What an operation does to the state: the versions it makes, one per affected path.
// A pure function of the operation alone, so every replica derives the same effects.
import { join } from '../clock/vector.ts';
import { joinPath } from '../fs/paths.ts';
import { type Content, type Dot, Kind, type Operation, type Version } from '../proto/types.ts';

export interface Effect {
  path: string;
  version: Version;
}

/** The version an operation makes at its own path (one object, built whole: this runs for
 * every change recorded or received, and copying a spread template was ~3 us of it). */
function ownVersion(op: Operation, dot: Dot, kind: Kind, content: Content | null, link: string): Version {
  return { dot, clock: op.clock, hlc: op.hlc, kind, mode: op.mode, mtimeMs: op.mtimeMs, content, link };
}

export function effectsOf(op: Operation): Effect[] {
  const dot: Dot = { origin: op.origin, seq: op.seq };
  switch (op.kind) {
    case Kind.Put:
    case Kind.Chmod:
      return [{ path: op.path, version: ownVersion(op, dot, Kind.Put, op.content, '') }];
    case Kind.Delete:
    case Kind.Rmdir:
      return [{ path: op.path, version: ownVersion(op, dot, Kind.Delete, null, '') }];
    case Kind.Mkdir:
      return [{ path: op.path, version: ownVersion(op, dot, Kind.Mkdir, null, '') }];
    case Kind.Symlink:
      return [{ path: op.path, version: ownVersion(op, dot, Kind.Symlink, null, op.link) }];
    case Kind.Rename: {
      const out: Effect[] = [];
      for (const e of op.entries) {
        const from = join(op.clock, e.fromClock);
        out.push({
          path: joinPath(op.path, e.path),
          version: {
            dot,
            clock: from,
            hlc: op.hlc,
            kind: Kind.Delete,
            mode: 0,
            mtimeMs: 0,
            content: null,
            link: '',
          },
        });
        out.push({
          path: joinPath(op.to, e.path),
          version: {
            dot,
            clock: join(from, e.toClock),
            hlc: op.hlc,
            kind: e.kind,
            mode: e.mode,
            mtimeMs: e.mtimeMs,
            content: e.kind === Kind.Put ? e.content : null,
            link: e.kind === Kind.Symlink ? e.link : '',
          },
        });
      }
      return out;
    }
    default:
      return [];
  }
}
