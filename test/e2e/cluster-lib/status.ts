// `resonate status` for the cluster tests. Waiting polls the daemon's GET /status (the very
// JSON `status --json` prints, without spawning a CLI per poll); once the expected state is
// there, both CLI forms are run and checked against the same expectations: the JSON
// fields, and the table (aligned columns, one row per member with its id and state, no
// colour codes since the output is a pipe, not a TTY).
import assert from 'node:assert/strict';
import type { MemberStatus, Status } from '../../../src/cli/status-model.ts';
import { runCli } from '../../harness/daemon.ts';
import { waitForValue } from '../../harness/wait.ts';
import { SYNC_TIMEOUT } from '../lib/e2e.ts';
import { stepper } from './trace.ts';

export type { Status } from '../../../src/cli/status-model.ts';

/** A member's state as the table names it. */
export type MemberState = 'self' | 'connected' | 'via peers' | 'unreachable';

export function stateOf(m: MemberStatus): MemberState {
  if (m.self) return 'self';
  if (m.connected) return 'connected';
  return m.reachable ? 'via peers' : 'unreachable';
}

export interface Expect {
  size?: number;
  quorum?: number;
  /** cluster.majorityReachable (and cluster.minority the opposite). */
  majority?: boolean;
  /** cluster.reachable (members reachable, this node included). */
  reachable?: number;
  /** Every member by id and its state: exactly these members, each listed once. */
  members?: Record<string, MemberState>;
  /** counts.uncommitted: exactly, or at least. */
  uncommitted?: number | { atLeast: number };
  /** Every member but self is `behind` 0 (holds everything this node holds). */
  caughtUp?: boolean;
  /** counts.files and counts.conflicts (conflict copies). */
  files?: number;
  conflicts?: number;
  /** No transfer in progress and no path waiting. */
  idle?: boolean;
}

/** What in s does not match e, one line each (empty: all good). */
export function mismatches(s: Status, e: Expect): string[] {
  const out: string[] = [];
  const c = s.cluster;
  if (e.size !== undefined && c.size !== e.size) out.push(`cluster.size ${c.size}, want ${e.size}`);
  if (e.quorum !== undefined && c.quorum !== e.quorum)
    out.push(`cluster.quorum ${c.quorum}, want ${e.quorum}`);
  if (c.minority !== !c.majorityReachable)
    out.push(`cluster.minority ${c.minority} with majorityReachable ${c.majorityReachable}`);
  if (e.majority !== undefined && c.majorityReachable !== e.majority)
    out.push(`cluster.majorityReachable ${c.majorityReachable}, want ${e.majority}`);
  if (e.reachable !== undefined && c.reachable !== e.reachable)
    out.push(`cluster.reachable ${c.reachable}, want ${e.reachable}`);
  if (e.members) {
    const ids = s.members.map((m) => m.id ?? '(null)');
    const want = Object.keys(e.members);
    if ([...ids].sort().join(',') !== [...want].sort().join(','))
      out.push(`members [${ids.join(', ')}], want [${want.join(', ')}]`);
    for (const m of s.members) {
      const w = m.id === null ? undefined : e.members[m.id];
      if (w !== undefined && stateOf(m) !== w) out.push(`member ${m.id} is ${stateOf(m)}, want ${w}`);
      if (m.self !== (m.id === s.node.id)) out.push(`member ${m.id}: self ${m.self} on node ${s.node.id}`);
    }
  }
  const u = s.counts.uncommitted;
  if (typeof e.uncommitted === 'object' && !(u >= e.uncommitted.atLeast))
    out.push(`counts.uncommitted ${u}, want >= ${e.uncommitted.atLeast}`);
  if (typeof e.uncommitted === 'number' && u !== e.uncommitted)
    out.push(`counts.uncommitted ${u}, want ${e.uncommitted}`);
  if (e.caughtUp) {
    for (const m of s.members) if (!m.self && m.behind !== 0) out.push(`member ${m.id} behind ${m.behind}`);
  }
  if (e.files !== undefined && s.counts.files !== e.files)
    out.push(`counts.files ${s.counts.files}, want ${e.files}`);
  if (e.conflicts !== undefined && s.counts.conflicts !== e.conflicts)
    out.push(`counts.conflicts ${s.counts.conflicts}, want ${e.conflicts}`);
  if (e.idle && (s.counts.waiting !== 0 || s.transfers.length !== 0))
    out.push(`waiting ${s.counts.waiting}, transfers ${JSON.stringify(s.transfers)}; want none`);
  return out;
}

/** GET /status on the daemon's port (what `status --json` prints). */
export async function httpStatus(port: number): Promise<Status> {
  const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET /status on ${port}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Status;
}

/** Poll the daemon on port until its status matches e; returns that status. */
export async function waitStatus(
  port: number,
  e: Expect,
  what: string,
  timeoutMs = SYNC_TIMEOUT,
): Promise<Status> {
  let last: string[] = [];
  return waitForValue(
    async () => {
      const s = await httpStatus(port);
      last = mismatches(s, e);
      return last.length === 0 ? s : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `status of ${what}`, describe: () => last.join('\n') },
  );
}

export interface TableRow {
  member: string;
  address: string;
  state: string;
  lastSeen: string;
  behind: string;
}

const HEADERS = ['MEMBER', 'ADDRESS', 'STATE', 'LAST SEEN', 'BEHIND'] as const;
const STATES = ['self', 'connected', 'via peers', 'unreachable'];

/**
 * Parse the table of `resonate status` and check its layout: the node and cluster lines,
 * a header row, one row per member with every cell starting at its header's column (two
 * spaces or more before it), a blank line and the counts.
 */
export function parseTable(text: string): {
  cluster: string;
  rows: TableRow[];
  counts: string;
  transfers: string;
} {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for colour codes
  assert.doesNotMatch(text, /\x1b\[/, 'no ANSI escape codes when stdout is not a terminal');
  const lines = text.replace(/\n$/, '').split('\n');
  assert.match(lines[0] ?? '', /^node {5}\S+ {2}\(.+\)$/, `node line:\n${text}`);
  const cluster = lines[1] ?? '';
  assert.match(
    cluster,
    /^cluster {2}\d+ members, quorum \d+, (majority reachable|minority: no majority reachable)$/,
    `cluster line:\n${text}`,
  );
  assert.equal(lines[2], '', `blank line after the cluster line:\n${text}`);
  const header = lines[3] ?? '';
  const cols = HEADERS.map((h) => header.indexOf(h));
  assert.equal(header.trimEnd(), header, 'no trailing spaces');
  for (let k = 0; k < cols.length; k++) {
    assert.ok(cols[k]! >= 0, `header has ${HEADERS[k]}:\n${text}`);
    if (k > 0) {
      assert.ok(cols[k]! > cols[k - 1]!, `header columns in order:\n${text}`);
      assert.equal(header.slice(cols[k]! - 2, cols[k]!), '  ', `two spaces before ${HEADERS[k]}:\n${text}`);
    }
  }
  assert.equal(cols[0], 0, 'MEMBER is the first column');
  const end = lines.indexOf('', 4);
  assert.ok(end > 4, `member rows end with a blank line:\n${text}`);
  const rows: TableRow[] = [];
  for (const line of lines.slice(4, end)) {
    assert.equal(line.trimEnd(), line, `no trailing spaces: ${JSON.stringify(line)}`);
    const cells = cols.map((c, k) => {
      assert.ok(line.length > c, `row reaches column ${HEADERS[k]}: ${JSON.stringify(line)}\n${text}`);
      if (k > 0) {
        assert.equal(line[c - 1], ' ', `column ${HEADERS[k]} aligned in ${JSON.stringify(line)}\n${text}`);
      }
      assert.notEqual(line[c], ' ', `column ${HEADERS[k]} aligned in ${JSON.stringify(line)}\n${text}`);
      return line.slice(c, k + 1 < cols.length ? cols[k + 1] : undefined).trim();
    });
    const [member, address, state, lastSeen, behind] = cells as [string, string, string, string, string];
    assert.ok(STATES.includes(state), `state ${JSON.stringify(state)} in ${JSON.stringify(line)}`);
    assert.match(behind, /^(\d+|\?)$/, `behind in ${JSON.stringify(line)}`);
    assert.match(lastSeen, /^(-|now|never|\d+s ago|\d+m ago)$/, `last seen in ${JSON.stringify(line)}`);
    if (member.endsWith(' (this)'))
      assert.deepEqual([state, lastSeen], ['self', '-'], `own row ${JSON.stringify(line)}`);
    rows.push({ member, address, state, lastSeen, behind });
  }
  const counts = lines[end + 1] ?? '';
  assert.match(
    counts,
    /^files [\d,]+ \(.+\), conflicts \d+, uncommitted operations \d+, waiting \d+$/,
    `counts line:\n${text}`,
  );
  const transfers = lines[end + 2] ?? '';
  assert.match(
    transfers,
    /^(no transfers in progress|transfers in progress: \d+)$/,
    `transfers line:\n${text}`,
  );
  return { cluster, rows, counts, transfers };
}

/** What in a parsed table does not match e (the same expectations as the JSON). */
function tableMismatches(table: ReturnType<typeof parseTable>, e: Expect, nodeId: string): string[] {
  const out: string[] = [];
  const want = (what: string, got: unknown, exp: unknown) => {
    if (got !== exp) out.push(`table: ${what} ${JSON.stringify(got)}, want ${JSON.stringify(exp)}`);
  };
  const cl = /^cluster {2}(\d+) members, quorum (\d+), (.*)$/.exec(table.cluster)!;
  if (e.size !== undefined) want('cluster size', Number(cl[1]), e.size);
  if (e.quorum !== undefined) want('quorum', Number(cl[2]), e.quorum);
  if (e.majority !== undefined)
    want('majority', cl[3], e.majority ? 'majority reachable' : 'minority: no majority reachable');
  if (e.members) {
    const got: Record<string, string> = {};
    for (const r of table.rows) got[r.member.replace(/ \(this\)$/, '')] = r.state;
    const show = (m: Record<string, string>) =>
      Object.keys(m)
        .sort()
        .map((k) => `${k}: ${m[k]}`)
        .join(', ');
    want('members', show(got), show(e.members));
    want('rows', table.rows.length, Object.keys(e.members).length);
    const self = table.rows.filter((r) => r.member.endsWith(' (this)')).map((r) => r.member);
    want('rows marked (this)', self.join(','), `${nodeId} (this)`);
  }
  const k = /^files ([\d,]+) \(.+\), conflicts (\d+), uncommitted operations (\d+), waiting (\d+)$/.exec(
    table.counts,
  )!;
  const u = Number(k[3]);
  if (typeof e.uncommitted === 'object' && !(u >= e.uncommitted.atLeast))
    out.push(`table: uncommitted ${u}, want >= ${e.uncommitted.atLeast}`);
  if (typeof e.uncommitted === 'number') want('uncommitted', u, e.uncommitted);
  if (e.caughtUp)
    for (const r of table.rows) if (!r.member.endsWith(' (this)')) want(`${r.member} behind`, r.behind, '0');
  if (e.files !== undefined) want('files', Number(k[1]!.replace(/,/g, '')), e.files);
  if (e.conflicts !== undefined) want('conflicts', Number(k[2]), e.conflicts);
  if (e.idle) {
    want('waiting', k[4], '0');
    want('transfers', table.transfers, 'no transfers in progress');
  }
  return out;
}

/**
 * Run `resonate status --port P --json` and `resonate status --port P` (together). The
 * output formats are asserted here; what they report is returned as mismatches with e.
 */
export async function cliStatus(
  port: number,
  e: Expect,
): Promise<{ json: Status; table: string; problems: string[] }> {
  const [j, t] = await Promise.all([
    runCli(['status', '--port', String(port), '--json'], { timeoutMs: 30_000 }),
    runCli(['status', '--port', String(port)], { timeoutMs: 30_000 }),
  ]);
  assert.equal(j.code, 0, `status --json exited ${j.code}: ${j.stderr}`);
  assert.equal(t.code, 0, `status exited ${t.code}: ${t.stderr}`);
  assert.equal(j.stdout.trim().split('\n').length, 1, 'status --json prints one line of JSON');
  const json = JSON.parse(j.stdout) as Status;
  assert.equal(json.version, 1);
  const problems = [
    ...mismatches(json, e).map((m) => `json: ${m}`),
    ...tableMismatches(parseTable(t.stdout), e, json.node.id),
  ];
  return { json, table: t.stdout, problems };
}

/**
 * waitStatus, then cliStatus: the state shows up, and both CLI forms report it. A CLI run
 * takes seconds on a loaded machine, so a member can flap in between (a reconnect, a late
 * gossip round): if the CLI saw something else, wait for the state again and rerun it, at
 * most three times. The output formats are never retried.
 */
export async function settle(
  port: number,
  e: Expect,
  what: string,
  timeoutMs = SYNC_TIMEOUT,
): Promise<Status> {
  const step = stepper(`settle ${what}`);
  for (let attempt = 1; ; attempt++) {
    await waitStatus(port, e, what, timeoutMs);
    step(`seen over HTTP; run the CLI (attempt ${attempt})`);
    const r = await cliStatus(port, e);
    step('CLI done');
    if (r.problems.length === 0) return r.json;
    if (attempt >= 3)
      assert.fail(
        `resonate status on ${what}:\n${r.problems.join('\n')}\n--- json:\n${JSON.stringify(r.json)}\n--- table:\n${r.table}`,
      );
  }
}

/** `resonate status` with no daemon on port: exit 1, one line on stderr, nothing on stdout. */
export async function checkNoDaemon(port: number): Promise<void> {
  const forms = [
    ['status', '--port', String(port)],
    ['status', '--port', String(port), '--json'],
  ];
  const results = await Promise.all(forms.map((args) => runCli(args, { timeoutMs: 30_000 })));
  results.forEach((r, k) => {
    const what = `resonate ${forms[k]!.join(' ')}`;
    assert.equal(r.code, 1, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
    assert.match(lines[0]!, new RegExp(`^resonate: .*127\\.0\\.0\\.1:${port}$`));
  });
}
