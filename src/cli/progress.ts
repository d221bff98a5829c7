// Progress of the initial scan: a line redrawn in place on a terminal, a log line every
// few seconds otherwise.
import type { ScanProgress } from '../node/scanner.ts';
import type { Logger } from '../util/logger.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const DRAW_MS = 100;
const LOG_MS = 2000;

export class ScanReporter {
  private readonly tty = process.stderr.isTTY === true;
  private readonly start = Date.now();
  private lastLog = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly log: Logger) {}

  // Called for every entry walked and file hashed: the line is drawn (or logged) only when
  // due, since formatting it each time cost ~150 ms of a 100,000-file scan.
  update(p: ScanProgress): void {
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw < DRAW_MS) return;
      this.lastDraw = now;
      process.stderr.write(`\r\x1b[2K${this.text(p, now)}`);
      this.drawn = true;
    } else if (now - this.lastLog > LOG_MS) {
      this.lastLog = now;
      this.log.info('scan progress', {
        phase: p.phase,
        entries: p.entries,
        changed: p.changed,
        hashedBytes: p.hashedBytes,
        totalBytes: p.totalBytes,
      });
    }
  }

  private text(p: ScanProgress, now: number): string {
    const secs = Math.max(0.001, (now - this.start) / 1000);
    const rate = formatBytes(p.hashedBytes / secs);
    return p.phase === 'walk'
      ? `scanning: ${p.entries.toLocaleString('en')} entries`
      : `scanning: ${p.hashedFiles.toLocaleString('en')}/${p.changed.toLocaleString('en')} changed files, ${formatBytes(p.hashedBytes)}/${formatBytes(p.totalBytes)} (${rate}/s)`;
  }

  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
  }
}
