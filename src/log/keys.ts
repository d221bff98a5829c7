// The LevelDB key layout (documented in DESIGN.md). One prefix per kind of record;
// NUL separates the parts of composite keys (paths and origins never contain NUL), and
// sequence numbers are fixed-width hex so that key order is numeric order.

const SEP = '\x00';
// Highest code point: its UTF-8 form sorts after every other character's.
const HI = '\u{10FFFF}';

export function seqHex(seq: number): string {
  return seq.toString(16).padStart(16, '0');
}

export const K = {
  meta: (name: string) => `m!${name}`,
  op: (origin: string, seq: number) => `o!${origin}${SEP}${seqHex(seq)}`,
  opRange: (origin: string, afterSeq: number) => ({
    gt: `o!${origin}${SEP}${seqHex(afterSeq)}`,
    lt: `o!${origin}${SEP}${HI}`,
  }),
  allOps: { gt: 'o!', lt: `o!${HI}` },
  clock: (origin: string) => `c!${origin}`,
  allClocks: { gt: 'c!', lt: `c!${HI}` },
  head: (path: string) => `h!${path}`,
  allHeads: { gt: 'h!', lt: `h!${HI}` },
  /** Heads strictly below a directory. */
  headsUnder: (dir: string) =>
    dir === '' ? { gt: 'h!', lt: `h!${HI}` } : { gt: `h!${dir}/`, lt: `h!${dir}/${HI}` },
  /** How many direct children of a directory have live data (or live children of their own). */
  liveChildren: (dir: string) => `d!${dir}`,
  /** Disk paths holding conflict copies of a synced path (NUL-separated list). */
  copies: (headPath: string) => `k!${headPath}`,
  file: (path: string) => `f!${path}`,
  allFiles: { gt: 'f!', lt: `f!${HI}` },
  filesUnder: (dir: string) =>
    dir === '' ? { gt: 'f!', lt: `f!${HI}` } : { gt: `f!${dir}/`, lt: `f!${dir}/${HI}` },
  /** One local place holding a block (the last indexed); enough for reuse and serving. */
  block: (hashHex: string) => `b!${hashHex}`,
  isBlock: (key: string) => key.startsWith('b!'),
  isOp: (key: string) => key.startsWith('o!'),
  /** Records only ever listed (a path's history, refusals), never read one by one. */
  isListedOnly: (key: string) => key.startsWith('p!') || key.startsWith('x!'),
  pathOp: (path: string, origin: string, seq: number) => `p!${path}${SEP}${origin}${SEP}${seqHex(seq)}`,
  pathOps: (path: string) => ({ gt: `p!${path}${SEP}`, lt: `p!${path}${SEP}${HI}` }),
  refusal: (origin: string, seq: number, path: string) => `x!${origin}${SEP}${seqHex(seq)}${SEP}${path}`,
  allRefusals: { gt: 'x!', lt: `x!${HI}` },
  inode: (ino: number) => `i!${ino.toString(16)}`,
  member: (nodeId: string) => `s!${nodeId}`,
  allMembers: { gt: 's!', lt: `s!${HI}` },
};

/** The part of a key after its prefix ("h!", "f!", ...). */
export function keyPath(key: string): string {
  return key.slice(2);
}

export function splitKey(key: string): string[] {
  return key.slice(2).split(SEP);
}
