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

export class ScanReporter {
  private readonly tty = process.stderr.isTTY === true;
  private readonly start = Date.now();
  private lastLog = 0;
  private drawn = false;

  constructor(private readonly log: Logger) {}

  update(p: ScanProgress): void {
    const secs = Math.max(0.001, (Date.now() - this.start) / 1000);
    const rate = formatBytes(p.hashedBytes / secs);
    const text =
      p.phase === 'walk'
        ? `scanning: ${p.entries.toLocaleString('en')} entries`
        : `scanning: ${p.hashedFiles.toLocaleString('en')}/${p.changed.toLocaleString('en')} changed files, ${formatBytes(p.hashedBytes)}/${formatBytes(p.totalBytes)} (${rate}/s)`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLog > 2000) {
      this.lastLog = Date.now();
      this.log.info('scan progress', {
        phase: p.phase,
        entries: p.entries,
        changed: p.changed,
        hashedBytes: p.hashedBytes,
        totalBytes: p.totalBytes,
      });
    }
  }

  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
  }
}
