// What the figures were measured on: CPU, cores, memory, kernel, the disk under the temp
// folder, load average (other work on the machine skews latencies), tool versions.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  kernel: string;
  os: string;
  disk: string;
  node: string;
}

export function machine(): Machine {
  const os = /PRETTY_NAME="([^"]+)"/.exec(sh('cat', ['/etc/os-release']))?.[1] ?? '';
  // Filesystem, its device and size, for the folder the temp dirs live in.
  const df = sh('df', ['-hT', tmpdir()]).split('\n')[1]?.split(/\s+/) ?? [];
  const dev = df[0]?.replace('/dev/', '').replace(/\d+$/, '') ?? '';
  let rotational = '';
  try {
    rotational =
      readFileSync(`/sys/block/${dev}/queue/rotational`, 'utf8').trim() === '1'
        ? 'rotational'
        : 'non-rotational';
  } catch {
    // not a plain block device
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ramGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    os,
    disk: df.length ? `${df[0]} ${df[1]} ${df[2]} ${rotational}`.trim() : 'unknown',
    node: process.version,
  };
}

export function load(): number[] {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}
