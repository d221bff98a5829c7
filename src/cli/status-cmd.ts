// `resonate status`: ask the daemon on HOST:PORT and print an aligned table (colour on a
// terminal only) or, with --json, the daemon's JSON as is.
import { readFileSync } from 'node:fs';
import type { StatusArgs } from './args.ts';
import { StartError } from './daemon.ts';
import { formatBytes } from './progress.ts';
import type { Status } from './status-model.ts';

function colour(on: boolean) {
  const wrap = (code: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), bold: wrap(1), dim: wrap(2) };
}

export async function fetchStatus(a: StatusArgs): Promise<Status> {
  const secret = a.secretFile ? readFileSync(a.secretFile, 'utf8').trim() : a.secret;
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  let res: Response;
  try {
    res = await fetch(`http://${host}:${a.port}/status`, {
      headers: secret ? { authorization: `Bearer ${secret}` } : {},
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    throw new StartError(`no resonate daemon answers on ${a.host}:${a.port}`);
  }
  if (!res.ok)
    throw new StartError(`the daemon on ${a.host}:${a.port} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Status;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => stripAnsi(r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c + ' '.repeat(widths[i]! - stripAnsi(c).length))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing colour codes
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 2 ? 'now' : s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

export function renderStatus(s: Status, tty: boolean): string {
  const c = colour(tty);
  const lines: string[] = [];
  lines.push(`${c.bold('node')}     ${s.node.id}  (${s.node.folder})`);
  const majority = s.cluster.majorityReachable
    ? c.green('majority reachable')
    : c.red('minority: no majority reachable');
  lines.push(`${c.bold('cluster')}  ${s.cluster.size} members, quorum ${s.cluster.quorum}, ${majority}`);
  lines.push('');
  const rows = [['MEMBER', 'ADDRESS', 'STATE', 'LAST SEEN', 'BEHIND']];
  for (const m of s.members) {
    rows.push([
      `${m.id ?? '?'}${m.self ? ' (this)' : ''}`,
      m.address,
      m.self
        ? c.green('self')
        : m.connected
          ? c.green('connected')
          : m.reachable
            ? c.yellow('via peers')
            : c.red('unreachable'),
      m.self ? '-' : ago(m.lastSeen),
      m.behind === null ? '?' : String(m.behind),
    ]);
  }
  lines.push(table(rows));
  lines.push('');
  const k = s.counts;
  lines.push(
    `files ${k.files.toLocaleString('en')} (${formatBytes(k.bytes)}), conflicts ${k.conflicts ? c.yellow(String(k.conflicts)) : 0}, uncommitted operations ${k.uncommitted}, waiting ${k.waiting}`,
  );
  if (s.transfers.length) {
    lines.push(`transfers in progress: ${s.transfers.length}`);
    for (const t of s.transfers) {
      lines.push(`  ${t.path}  ${formatBytes(t.done)} / ${formatBytes(t.size)}`);
    }
  } else lines.push('no transfers in progress');
  return `${lines.join('\n')}\n`;
}

export async function runStatus(a: StatusArgs, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const s = await fetchStatus(a);
  out.write(a.json ? `${JSON.stringify(s)}\n` : renderStatus(s, out.isTTY === true));
  return 0;
}
