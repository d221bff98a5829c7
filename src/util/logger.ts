// A small structured logger: one line per event, "time level message key=value ...",
// or one JSON object per line. Levels filter; fields carry the path or peer concerned.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const LEVELS = Object.keys(ORDER) as Level[];

export type Fields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level: Level;
  json?: boolean;
  write?: (line: string) => void;
  now?: () => number;
}

function quote(v: string): string {
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

export function createLogger(opts: LoggerOptions, bound: Fields = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = opts.now ?? Date.now;
  const min = ORDER[opts.level];
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < min) return;
    const all: Fields = { ...bound, ...fields };
    const time = new Date(now()).toISOString();
    if (opts.json) {
      write(JSON.stringify({ time, level, msg, ...all }));
      return;
    }
    let line = `${time} ${level.padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries(all)) if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
    write(line);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
