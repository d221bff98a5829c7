// Fault rules for FaultyFs and their text form, so an end-to-end test can start the real
// daemon with faults injected through the environment:
//
//   RESONATE_FAULTS='write:ENOSPC:times=3;openRead:VANISH:path=^big'
//
//   spec    = rule *( ";" rule )            empty rules are ignored
//   rule    = op ":" error *( ":" option )
//   op      = lstat | readdir | readlink | openRead | read | createTemp | write | commit
//           | abort | mkdir | rmdir | unlink | rename | symlink | chmod | utimes
//           | fsyncDir | *                  ("*" = every operation)
//   error   = ENOSPC | EIO | EACCES | VANISH
//   option  = times=N        inject at most N times (default: every matching call)
//           | after=N        let the first N matching calls through
//           | probability=P  inject with probability P in [0,1] (needs a random source)
//           | path=REGEX     only for paths matching REGEX (JavaScript syntax); must be the
//                            last option: it takes the rest of the rule, ':' included
//
// Paths matched: the path argument; for rename either path; for write/commit/abort the
// target the temp file was created for (not its temp name); for read the opened path.
import { FsError } from './types.ts';

export const FAULT_OPS = [
  'lstat',
  'readdir',
  'readlink',
  'openRead',
  'read',
  'createTemp',
  'write',
  'commit',
  'abort',
  'mkdir',
  'rmdir',
  'unlink',
  'rename',
  'symlink',
  'chmod',
  'utimes',
  'fsyncDir',
  '*',
] as const;
export type FaultOp = (typeof FAULT_OPS)[number];

export const FAULT_ERRORS = ['ENOSPC', 'EIO', 'EACCES', 'VANISH'] as const;
/** VANISH: the entry is gone by the time we get to it (lstat → null, others ERR_NOT_FOUND). */
export type FaultError = (typeof FAULT_ERRORS)[number];

export interface FaultRule {
  op: FaultOp;
  error: FaultError;
  path?: RegExp;
  times?: number;
  after?: number;
  probability?: number;
}

function bad(rule: string, why: string): Error {
  return new Error(`RESONATE_FAULTS: ${why} in rule ${JSON.stringify(rule)}`);
}

function count(rule: string, key: string, value: string): number {
  if (!/^\d+$/.test(value)) throw bad(rule, `${key} must be a whole number`);
  return Number(value);
}

function parseRule(text: string): FaultRule {
  const [op = '', error = '', ...rest] = text.split(':');
  if (!(FAULT_OPS as readonly string[]).includes(op)) throw bad(text, `unknown operation "${op}"`);
  if (!(FAULT_ERRORS as readonly string[]).includes(error)) throw bad(text, `unknown error "${error}"`);
  const rule: FaultRule = { op: op as FaultOp, error: error as FaultError };
  for (let i = 0; i < rest.length; i++) {
    const option = rest[i] ?? '';
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? '' : option.slice(eq + 1);
    if (key === 'path') {
      const source = [value, ...rest.slice(i + 1)].join(':');
      try {
        rule.path = new RegExp(source);
      } catch (err) {
        throw bad(text, `invalid path regex (${(err as Error).message})`);
      }
      break;
    }
    if (key === 'times') rule.times = count(text, key, value);
    else if (key === 'after') rule.after = count(text, key, value);
    else if (key === 'probability' || key === 'p') {
      const p = Number(value);
      if (value === '' || !(p >= 0 && p <= 1)) throw bad(text, 'probability must be a number in [0,1]');
      rule.probability = p;
    } else throw bad(text, `unknown option "${key}"`);
  }
  return rule;
}

/** Parse the RESONATE_FAULTS syntax above; throws a descriptive Error on any mistake. */
export function fromEnv(spec: string): FaultRule[] {
  return spec
    .split(';')
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map(parseRule);
}

const CODES = {
  ENOSPC: 'ERR_NO_SPACE',
  EIO: 'ERR_IO',
  EACCES: 'ERR_ACCESS',
  VANISH: 'ERR_NOT_FOUND',
} as const;

/** The FsError a fault produces, shaped like DiskFs's own (errno-carrying cause). */
export function faultError(error: FaultError, path: string, op: string): FsError {
  const errno = error === 'VANISH' ? 'ENOENT' : error;
  const cause = Object.assign(new Error(`${errno}: injected fault, ${op} ${path}`), {
    code: errno,
    syscall: op,
  });
  const what = error === 'VANISH' ? 'vanished' : errno;
  return new FsError(CODES[error], path, `${what} (injected fault in ${op})`, cause);
}
