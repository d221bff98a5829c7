// The text of `resonate --help` and of each command's help.
import { readFileSync } from 'node:fs';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const MAIN = `resonate — keep a folder identical on 2..N machines, live and in both directions

Usage:
  resonate --dir DIR --port PORT [--peer HOST:PORT]...   run the daemon
  resonate status [--host HOST] --port PORT [--json]     ask a running daemon
  resonate log --dir DIR [--path PATH] [--json]          show the operation log

The original single-dash form works too: resonate -dir test1 -port 1234 -peer localhost:4321

Daemon options:
  --dir DIR              folder to sync, in place (created if missing)
  --port PORT            port to listen on (peers, and \`resonate status\`)
  --peer HOST:PORT       a peer to keep connected to; repeat or comma-separate
  --cluster HOST:PORT,…  all cluster members, when not every member is a --peer
                         (sizes the majority: floor(N/2)+1 of N members)
  --node-id ID           this node's name (default: generated once, kept in the state)
  --state DIR            where the log lives (default DIR/.resonate)
  --secret S             cluster secret (or RESONATE_SECRET, or --secret-file FILE);
                         peers prove they know it; it never crosses the wire
  --listen HOST          address to listen on (default: all with a secret, else loopback)
  --insecure             allow listening beyond loopback without a secret
  --tls-cert F --tls-key F   serve and dial over TLS (wss://)
  --peer-fingerprint FP  only accept peers whose certificate SHA-256 is FP (repeatable)
  --watcher KIND         auto (default), chokidar, or native (one fs.watch per folder)
  --log-level LEVEL      debug, info (default), warn, error (or RESONATE_LOG_LEVEL)
  --log-format FORMAT    text (default) or json
  -h, --help             this help
  --version              print the version

Files are never lost: concurrent edits keep every version (the loser as
NAME.conflict-<node>-<yyyymmdd-hhmmss>.EXT), writes are atomic, and a folder that
vanishes (an unmounted disk) does not delete anything on the peers.
Patterns in DIR/.resonateignore (gitignore syntax) are not synced.`;

const STATUS = `Usage: resonate status [--host HOST] --port PORT [--json] [--secret S | --secret-file F]

Asks the daemon listening on HOST:PORT (default host 127.0.0.1) how the cluster is doing:
members, who is connected, how far behind each is, uncommitted operations, conflicts and
transfers. --json prints one stable JSON object. Exit status 1 if no daemon answers.`;

const LOG = `Usage: resonate log --dir DIR [--state STATE] [--path PATH] [--json]

Prints the operation log, oldest first: time, node, sequence number, kind, path, size.
--path shows the history of one path across every node. --json prints one object per
line. Works while the daemon is stopped.`;

export function helpText(topic: string): string {
  if (topic === 'status') return STATUS;
  if (topic === 'log') return LOG;
  return MAIN;
}
