// What an operation does to the state: the versions it makes, one per affected path.
// A pure function of the operation alone, so every replica derives the same effects.
import { join } from '../clock/vector.ts';
import { type Dot, Kind, type Operation, type Version } from '../proto/types.ts';

export interface Effect {
  path: string;
  version: Version;
}

/** Join two relative paths; "" is the root of a moved tree. */
export function joinPath(base: string, rel: string): string {
  if (rel === '') return base;
  return base === '' ? rel : `${base}/${rel}`;
}

function base(op: Operation, dot: Dot): Omit<Version, 'kind'> {
  return {
    dot,
    clock: op.clock,
    hlc: op.hlc,
    mode: op.mode,
    mtimeMs: op.mtimeMs,
    content: null,
    link: '',
  };
}

export function effectsOf(op: Operation): Effect[] {
  const dot: Dot = { origin: op.origin, seq: op.seq };
  const b = base(op, dot);
  switch (op.kind) {
    case Kind.Put:
    case Kind.Chmod:
      return [{ path: op.path, version: { ...b, kind: Kind.Put, content: op.content } }];
    case Kind.Delete:
    case Kind.Rmdir:
      return [{ path: op.path, version: { ...b, kind: Kind.Delete } }];
    case Kind.Mkdir:
      return [{ path: op.path, version: { ...b, kind: Kind.Mkdir } }];
    case Kind.Symlink:
      return [{ path: op.path, version: { ...b, kind: Kind.Symlink, link: op.link } }];
    case Kind.Rename: {
      const out: Effect[] = [];
      for (const e of op.entries) {
        const from = join(op.clock, e.fromClock);
        out.push({
          path: joinPath(op.path, e.path),
          version: { ...b, clock: from, kind: Kind.Delete, mode: 0, mtimeMs: 0 },
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
