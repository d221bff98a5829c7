// Synced paths: relative to the folder, '/'-separated, Unicode NFC, no '.', '..' or
// empty components, no control characters, bounded length, and never one of our own
// names (the state folder, temp files). checkPath is the gate for every path that comes
// from a peer; localPath turns a name found on disk into a synced path (or refuses it).

export const STATE_DIR = '.resonate';
export const TEMP_PREFIX = '.resonate-tmp-';
export const IGNORE_FILE = '.resonateignore';
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

export class PathError extends Error {
  readonly code = 'ERR_PATH_UNSAFE';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`unsafe path ${JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path)}: ${reason}`);
  }
}

// C0 controls, DEL and C1 controls: invisible in listings, unsafe in terminals and logs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE = /^[A-Za-z]:/;

// Printable ASCII: one byte a character, already NFC, and no control characters. Most
// paths are, and this is checked on every disk operation: they skip the costlier tests.
const PLAIN_ASCII = /^[\x20-\x7e]*$/;
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// In a printable ASCII path, anything the component loop could object to: an empty, "." or
// ".." component, a name over MAX_NAME_BYTES, or one starting like our own names (the temp
// prefix starts with the state folder's name). Without a match the loop (a split and a
// lower-casing of every component) has nothing to say.
const ODD_ASCII = new RegExp(
  `(?:^|/)(?:\\.{0,2}(?:/|$)|${literal(STATE_DIR)})|[^/]{${MAX_NAME_BYTES + 1}}`,
  'i',
);
// Our own names: the state folder at the top, a temp file anywhere (any case).
const OWN_NAME = new RegExp(`^${literal(STATE_DIR)}(?:/|$)|(?:^|/)${literal(TEMP_PREFIX)}`, 'i');

/** The reason a path is not a valid synced path, or null if it is. */
export function pathProblem(path: unknown): string | null {
  if (typeof path !== 'string') return 'not a string';
  if (path === '') return 'empty';
  const ascii = PLAIN_ASCII.test(path);
  if ((ascii ? path.length : Buffer.byteLength(path, 'utf8')) > MAX_PATH_BYTES)
    return `longer than ${MAX_PATH_BYTES} bytes`;
  if (!ascii && CONTROL.test(path)) return 'control character';
  if (path.includes('\\')) return 'backslash';
  if (path.startsWith('/')) return 'absolute';
  if (DRIVE.test(path)) return 'drive letter';
  if (!ascii && path.normalize('NFC') !== path) return 'not Unicode NFC';
  if (!ascii && path.includes('\uFFFD')) return 'invalid UTF-8';
  if (ascii && !ODD_ASCII.test(path)) return null;
  const parts = path.split('/');
  for (const part of parts) {
    if (part === '') return 'empty component';
    if (part === '.' || part === '..') return `"${part}" component`;
    if ((ascii ? part.length : Buffer.byteLength(part, 'utf8')) > MAX_NAME_BYTES)
      return `name longer than ${MAX_NAME_BYTES} bytes`;
    // Compared without case: on a case-insensitive disk ".Resonate" is our folder too.
    if (part.toLowerCase().startsWith(TEMP_PREFIX)) return 'reserved temp-file name';
  }
  if (parts[0]!.toLowerCase() === STATE_DIR) return 'reserved state folder';
  return null;
}

export function checkPath(path: unknown): string {
  const problem = pathProblem(path);
  if (problem !== null) throw new PathError(String(path), problem);
  return path as string;
}

export function isValidPath(path: unknown): path is string {
  return pathProblem(path) === null;
}

/** Our own names on disk, always skipped by scanner and watcher. */
export function isOwnName(path: string): boolean {
  return OWN_NAME.test(path);
}

/** How many components a path has ("" = the root: 0). Counted, not split: it runs in sorts. */
export function pathDepth(path: string): number {
  if (path === '') return 0;
  let n = 1;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) n++;
  return n;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Join two relative paths ("" is the synced folder, or the root of a moved tree). */
export function joinPath(base: string, rel: string): string {
  if (rel === '') return base;
  return base === '' ? rel : `${base}/${rel}`;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every ancestor directory of a path, outermost first ("a/b/c" → ["a", "a/b"]). */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/** a is b or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/** Byte-wise order of UTF-8 strings (the order of LevelDB keys). */
export function compareUtf8(a: string, b: string): number {
  // UTF-8 byte order is code point order, which UTF-16 code units share except where a
  // surrogate is involved: compare units, and encode only at a difference that has one (a
  // folder listing's sort encoded two Buffers per comparison, ~0.7 million of them in a
  // 100,000-file scan).
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x & 0xf800) === 0xd800 || (y & 0xf800) === 0xd800)
      return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
