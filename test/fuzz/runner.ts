// One fuzz campaign against a live daemon: a target daemon and a well-behaved partner
// linked to it (both real processes on temp folders), a canary folder beside them, then
// N hostile inputs from several lanes at once — inputs before or within the handshake on
// fresh connections, and inputs from authenticated peers that know the secret — and
// finally the checks: both daemons alive, nothing written outside the folders, no refused
// name inside them, the partner still syncs both ways, the log not flooded.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFrame } from '../../src/proto/codec.ts';
import { type Daemon, startDaemon } from '../harness/daemon.ts';
import { writeBytes } from '../harness/files.ts';
import { freePort } from '../harness/ports.ts';
import { createRng, type Rng } from '../harness/prng.ts';
import { makeTempDir } from '../harness/tmp.ts';
import { snapshotTree } from '../harness/tree.ts';
import { waitFor } from '../harness/wait.ts';
import { canaryChanges, escapedEntries, folderProblems, type LogSummary, summariseLog } from './checks.ts';
import { type BlockAnswer, FuzzPeer, HandshakeRefused } from './client.ts';
import { type Generated, genPost, genPre, type PostInput, type PreInput } from './gen.ts';
import { OpFactory } from './ops.ts';
import { RawWs, type RawWsOptions, UpgradeRefused, type WsClosed } from './wsraw.ts';

export interface FuzzOptions {
  seed: number;
  inputs: number;
  /** Authenticated peers sending at once (default 3). */
  lanes?: number;
  /** Connections for pre-handshake inputs at once (default 2). */
  preLanes?: number;
  /** Share of inputs sent before or within the handshake (default 0.15). */
  preShare?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * When the well-behaved partner daemon links to the target: 'start' (default: it lives
   * through the inputs, replicating what the target accepts as it goes) or 'end' (it joins
   * after the inputs and catches up on the whole log: cheaper, same checks).
   */
  partner?: 'start' | 'end';
  /** An authenticated peer stalled mid-frame for the whole run (default true). */
  staller?: boolean;
  /** Categories not to generate, e.g. ["post/gossip-garbage"] (to isolate a finding). */
  skip?: string[];
  /** Extra arguments for the target daemon. */
  targetArgs?: string[];
  /** Extra environment for the target daemon. */
  targetEnv?: Record<string, string>;
  /** Daemon entry script (default bin/resonate.js of this checkout): fuzz another build. */
  entry?: string;
}

export interface Finding {
  kind: string;
  detail: string;
  input?: string;
}

export interface FuzzReport {
  seed: number;
  inputs: number;
  durationMs: number;
  /** Inputs per category. */
  categories: Record<string, number>;
  /** Time spent per category (ms, summed over lanes), to see what the run costs. */
  categoryMs: Record<string, number>;
  reconnects: number;
  /** Inputs the daemon was expected to drop the link for, and did not. */
  notClosed: string[];
  /** Inputs that should have been harmless but cost the link (with the reason). */
  closedUnexpectedly: Record<string, number>;
  findings: Finding[];
  targetAlive: boolean;
  partnerAlive: boolean;
  escaped: string[];
  canary: string[];
  refusedNames: string[];
  tempsLeft: string[];
  folderEntries: number;
  sync: { partnerToTarget: boolean; targetToPartner: boolean };
  log: LogSummary & { perInput: number };
  /** CPU seconds used during the inputs: this process, the target, the partner. */
  cpu: { fuzzer: number; target: number; partner: number };
  /** Slowest barrier round trips: how long the daemon took to get through an input. */
  slowest: { ms: number; input: string }[];
  dirs: { root: string; target: string; partner: string; canary: string };
}

const SECRET = 'fuzz-secret';

interface Shared {
  o: Required<
    Omit<FuzzOptions, 'log' | 'targetArgs' | 'targetEnv' | 'partner' | 'skip' | 'entry' | 'staller'>
  > &
    Pick<FuzzOptions, 'log'>;
  skip: ReadonlySet<string>;
  report: FuzzReport;
  port: number;
  canary: string;
  targetNodeId: string;
  /** Recent inputs, for the report when something breaks. */
  recent: string[];
  stop: boolean;
  done: number;
  background: Promise<void>[];
  target: Daemon;
}

function describe(i: number, g: Generated<unknown>): string {
  return `#${i} ${g.category} (${g.note})`;
}

const TRACE = process.env.FUZZ_TRACE === '1';

function note(s: Shared, i: number, g: Generated<unknown>): string {
  const d = describe(i, g);
  if (TRACE) process.stderr.write(`${new Date().toISOString()} ${d}\n`);
  s.recent.push(d);
  if (s.recent.length > 40) s.recent.shift();
  s.report.categories[g.category] = (s.report.categories[g.category] ?? 0) + 1;
  s.done++;
  return d;
}

function finding(s: Shared, kind: string, detail: string, input?: string): void {
  if (s.report.findings.filter((f) => f.kind === kind).length >= 20) return;
  s.report.findings.push(input ? { kind, detail, input } : { kind, detail });
}

// --- authenticated lanes ---------------------------------------------------------------------

class Lane {
  peer: FuzzPeer | null = null;
  readonly ops = new OpFactory();
  readonly origins: string[];
  readonly known = new Map<string, Uint8Array>();
  private readonly answerRng: Rng;
  /** Inputs sent since the last barrier: one of them is to blame if it fails. */
  private readonly unchecked: string[] = [];
  lastCategory = 'post/?';
  /**
   * An input that may cost the link went out on this connection. Some are refused only
   * when stored (asynchronously), so a later close of this link may still be theirs.
   */
  private maybeSent = false;

  constructor(
    private readonly s: Shared,
    readonly index: number,
  ) {
    const alpha = 'abcdefghijkmnpqrstuvwxyz23456789';
    const log = (k: number) =>
      Array.from({ length: 8 }, (_, j) => alpha[(index * 7 + k * 3 + j) % alpha.length]).join('');
    this.origins = [`fz${index}~${log(1)}`, `fuzz.${index}-b~${log(2)}`];
    this.answerRng = createRng(`${s.o.seed}:answers:${index}`);
  }

  get nodeId(): string {
    return `fuzz-${this.index}`;
  }

  private answer(): BlockAnswer {
    const x = this.answerRng.float();
    return x < 0.4 ? 'wrong' : x < 0.65 ? 'missing' : x < 0.9 ? 'right' : 'silent';
  }

  async connect(): Promise<FuzzPeer> {
    if (this.peer && !this.peer.isClosed) return this.peer;
    for (let attempt = 0; ; attempt++) {
      try {
        const p = await FuzzPeer.connect({
          host: '127.0.0.1',
          port: this.s.port,
          secret: SECRET,
          nodeId: this.nodeId,
          origin: this.origins[0]!,
          known: this.known,
          answer: () => this.answer(),
          timeoutMs: 10_000,
        });
        // Sequence numbers: the daemon's first Welcome on a link says what it holds; within
        // the link we count what we sent (a later Welcome answers a gap and may be stale).
        p.onWelcome = (c) => {
          if (p.welcomes === 1) this.ops.resync(c);
        };
        if (p.welcome) this.ops.resync(p.welcome);
        this.peer = p;
        this.maybeSent = false;
        this.s.report.reconnects++;
        return p;
      } catch (err) {
        // The previous link of this node id may still be closing: a moment, then again.
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 20 + attempt * 10));
      }
    }
  }

  async run(i: number): Promise<void> {
    const s = this.s;
    let p = await this.connect();
    const rng = createRng(`${s.o.seed}:${i}`);
    rng.float(); // the lane draw
    let g: Generated<PostInput>;
    try {
      g = genPost({
        rng,
        ops: this.ops,
        origins: this.origins,
        targetOrigin: p.hello.origin,
        known: this.known,
        requested: () => [...p.requested].slice(-100),
        canary: s.canary,
        serial: i,
        skip: s.skip,
        daemonClock: () => p.welcome,
      });
    } catch (err) {
      finding(s, 'generator error', String((err as Error).stack ?? err), `#${i}`);
      return;
    }
    const d = note(s, i, g);
    this.lastCategory = g.category;
    const input = g.input;
    const fatal = input.type === 'stall' ? 'no' : input.fatal;
    // An input that may cost the link goes alone: earlier harmless ones are checked first,
    // so that a lost link is blamed on the right input.
    if (fatal !== 'no' && this.unchecked.length) {
      await this.check(p);
      p = await this.connect();
    }
    if (input.type === 'messages') for (const m of input.messages) p.sendBytes(m);
    else if (input.type === 'raw') p.ws.write(input.bytes);
    else {
      p.ws.stall(input.first);
      await new Promise((r) => setTimeout(r, input.ms));
      if (input.rest) p.ws.resume(input.rest);
      else {
        p.destroy();
        await p.closed;
        return;
      }
    }
    if (fatal === 'yes') {
      // Dropped at once as a rule; if not, a fence tells a kept link from a slow close.
      if ((await p.ws.waitClosed(5_000)) || !(await p.barrier(10_000))) {
        if (!p.isClosed && !(await p.ws.waitClosed(5_000))) {
          finding(s, 'hang', 'no answer and no close within 20 s after an input it must refuse', d);
          p.destroy();
        }
        return;
      }
      s.report.notClosed.push(d);
      finding(s, 'missing check', 'the daemon kept the link after an input it must refuse', d);
      p.destroy();
      return;
    }
    if (input.type === 'messages') for (const op of input.valid ?? []) this.ops.accepted(op.origin, op.seq);
    this.unchecked.push(d);
    // "maybe": see at once whether the link survived (operations are checked again as they
    // are stored, so wait for that too); harmless inputs: every few.
    if (fatal === 'maybe') {
      this.maybeSent = true;
      if (input.type === 'messages') await p.settled();
      await this.check(p, true);
    } else if (this.unchecked.length >= 8) await this.check(p);
  }

  /**
   * Prove the daemon got through the unchecked inputs (it answers a block request sent
   * after them). A lost link is expected only after a "maybe" input.
   */
  private async check(p: FuzzPeer, mayClose = false): Promise<void> {
    const since = this.unchecked.splice(0).join(', ');
    const t0 = Date.now();
    const ok = await p.barrier(20_000);
    if (ok) {
      this.slow(Date.now() - t0, since);
      return;
    }
    const closed = await p.ws.waitClosed(200);
    if (!closed) {
      finding(this.s, 'hang', 'no answer to a block request within 20 s (link still open)', since);
      p.destroy();
      return;
    }
    if (!mayClose) this.unexpected(closed, since, this.maybeSent);
  }

  private slow(ms: number, d: string): void {
    const list = this.s.report.slowest;
    list.push({ ms, input: d });
    list.sort((a, b) => b.ms - a.ms);
    if (list.length > 10) list.pop();
  }

  private unexpected(closed: WsClosed, d: string, excused: boolean): void {
    const why = `${closed.code ?? '-'} ${closed.reason.replace(/[0-9]+/g, 'N').slice(0, 80)}`;
    const m = this.s.report.closedUnexpectedly;
    m[why] = (m[why] ?? 0) + 1;
    if (!excused && !/too many block requests/.test(closed.reason)) {
      finding(this.s, 'unexpected close', `a harmless input cost the link: ${why}`, d);
    }
  }
}

// --- pre-handshake inputs --------------------------------------------------------------------

async function runPre(s: Shared, i: number): Promise<string> {
  const rng = createRng(`${s.o.seed}:${i}`);
  rng.float(); // the lane draw
  const g = genPre({
    rng,
    secret: SECRET,
    targetNodeId: s.targetNodeId,
    canary: s.canary,
    serial: i,
    skip: s.skip,
  });
  const d = note(s, i, g);
  const input: PreInput = g.input;
  await runPreInput(s, g, input, d);
  return g.category;
}

async function runPreInput(s: Shared, g: Generated<PreInput>, input: PreInput, d: string): Promise<void> {
  const opts: RawWsOptions = { host: '127.0.0.1', port: s.port, timeoutMs: 5_000 };
  if (input.request) opts.rawRequest = input.request;
  if (input.path) opts.path = input.path;
  let ws: RawWs;
  try {
    ws = await RawWs.connect(opts);
  } catch (err) {
    if (err instanceof UpgradeRefused) {
      if (err.status === 503)
        finding(s, 'pending limit', 'upgrade refused with 503 (too many pending connections)', d);
      return;
    }
    finding(s, 'connect failed', String(err), d);
    return;
  }
  const hs = FuzzPeer.handshakeFor({ nodeId: input.nodeId, secret: input.secret }, input.protocol);
  let proof: Uint8Array | null = null;
  const after: Buffer[] = [];
  for (const step of input.steps) {
    if (step.do === 'hello') ws.send(hs.helloFrame);
    else if (step.do === 'read-hello') {
      const m = await ws.next(5_000);
      if (!m) break;
      const st = hs.receive(m.data);
      if (st.kind === 'send') proof = st.frame;
    } else if (step.do === 'proof') {
      if (proof) ws.send(proof);
    } else if (step.do === 'message') ws.send(step.data, step.opcode);
    else ws.write(step.data);
  }
  const finish = async (limitMs: number) => {
    if (!input.request) {
      for (let m = await ws.next(0); m; m = await ws.next(0)) after.push(m.data);
      ws.onMessage = (m) => after.push(m.data);
    }
    // A second chance: the close may be sitting unread if this process was busy.
    const closed = (await ws.waitClosed(limitMs)) ?? (await ws.waitClosed(3_000));
    // The daemon's own Hello is fine; anything else (a Proof, a Welcome, ops) means we got in.
    const beyond = after.filter((b) => {
      try {
        return !('hello' in decodeFrame(b));
      } catch {
        return true;
      }
    }).length;
    if (beyond > 0 && !input.mayLink) {
      finding(
        s,
        'auth bypass',
        `the daemon sent ${beyond} message(s) past its Hello to an unauthenticated peer`,
        d,
      );
    }
    if (!closed) {
      const from = `:${ws.socket.localPort}`;
      const said = s.target
        .lines()
        .filter((l) => l.text.includes(from))
        .map((l) => l.text);
      finding(
        s,
        'unauthenticated connection kept',
        `still open ${limitMs} ms after the input (from port ${ws.socket.localPort}); the daemon said: ${said.join(' | ') || 'nothing'}`,
        d,
      );
      ws.destroy();
      return;
    }
    if (/wrong-secret|no-secret/.test(g.category) && closed.code !== 4003) {
      finding(s, 'auth', `expected close code 4003, got ${closed.code} ${closed.reason}`, d);
    }
  };
  if (input.holdMs) {
    // The daemon must end it by itself (handshake timer, header timeout): do not wait here.
    s.background.push(finish(input.holdMs));
    if (s.background.length >= 16) await s.background.shift();
    return;
  }
  await finish(6_000);
}

// --- the campaign ------------------------------------------------------------------------------

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const o = { lanes: 3, preLanes: 2, preShare: 0.15, partner: 'start' as const, ...options };
  const log = o.log ?? (() => {});
  const root = await makeTempDir('fuzz');
  const dirs = {
    root,
    target: join(root, 'target'),
    partner: join(root, 'partner'),
    canary: join(root, 'canary'),
  };
  for (const d of [dirs.target, dirs.partner, dirs.canary]) await mkdir(d);
  await writeFile(join(dirs.canary, 'sentinel'), 'do not touch\n');
  await mkdir(join(dirs.canary, 'sub'));
  await writeFile(join(dirs.canary, 'sub', 'passwd'), 'root:x:0:0\n');
  const canaryBefore = await snapshotTree(dirs.canary, { ignore: [] });

  const report: FuzzReport = {
    seed: o.seed,
    inputs: 0,
    durationMs: 0,
    categories: {},
    categoryMs: {},
    reconnects: 0,
    notClosed: [],
    closedUnexpectedly: {},
    findings: [],
    targetAlive: false,
    partnerAlive: false,
    escaped: [],
    canary: [],
    refusedNames: [],
    tempsLeft: [],
    folderEntries: 0,
    sync: { partnerToTarget: false, targetToPartner: false },
    log: { lines: 0, linkEnds: [], byMessage: [], errors: [], perInput: 0 },
    slowest: [],
    cpu: { fuzzer: 0, target: 0, partner: 0 },
    dirs,
  };

  const [port, partnerPort] = [await freePort(), await freePort()];
  // --listen 127.0.0.1: with a secret a daemon would listen on every interface; test daemons need not.
  const target = await startDaemon({
    dir: dirs.target,
    port,
    secret: SECRET,
    nodeId: 'target',
    name: 'target',
    maxLines: 1_000_000,
    args: ['--listen', '127.0.0.1', ...(options.targetArgs ?? [])],
    ...(options.targetEnv ? { env: options.targetEnv } : {}),
    ...(options.entry ? { entry: options.entry } : {}),
  });
  const startPartner = async () => {
    const d = await startDaemon({
      dir: dirs.partner,
      port: partnerPort,
      secret: SECRET,
      nodeId: 'partner',
      name: 'partner',
      peers: [`127.0.0.1:${port}`],
      args: ['--listen', '127.0.0.1'],
      ...(options.entry ? { entry: options.entry } : {}),
    });
    await d.waitForLine(/\bready\b/, 30_000);
    await target.waitForLine(/peer connected peer=partner/, 30_000, { since: 0 });
    return d;
  };
  await target.waitForLine(/\bready\b/, 30_000);
  let partner = o.partner === 'start' ? await startPartner() : null;
  log(`fuzz: seed ${o.seed}, ${o.inputs} inputs, target 127.0.0.1:${port}, folders under ${root}`);

  const s: Shared = {
    o: {
      seed: o.seed,
      inputs: o.inputs,
      lanes: o.lanes,
      preLanes: o.preLanes,
      preShare: o.preShare,
      log: o.log,
    },
    skip: new Set(o.skip ?? []),
    report,
    port,
    canary: dirs.canary,
    targetNodeId: 'target',
    recent: [],
    stop: false,
    done: 0,
    background: [],
    target,
  };

  // A peer that stalls in the middle of a frame for the whole run.
  const staller =
    options.staller === false
      ? null
      : await FuzzPeer.connect({ host: '127.0.0.1', port, secret: SECRET, nodeId: 'staller' });
  staller?.ws.write(Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]));

  const pre: number[] = [];
  const post: number[] = [];
  for (let i = 0; i < o.inputs; i++) (createRng(`${o.seed}:${i}`).float() < o.preShare ? pre : post).push(i);

  const logMark = target.mark();
  const cpu0 = {
    fuzzer: selfCpu(),
    target: await procCpu(target.pid),
    partner: partner ? await procCpu(partner.pid) : 0,
  };
  const t0 = Date.now();
  let lastProgress = t0;
  const progress = () => {
    if (Date.now() - lastProgress < 5_000) return;
    lastProgress = Date.now();
    log(
      `fuzz: ${s.done}/${o.inputs} inputs, ${report.reconnects} reconnects, ${Math.round((Date.now() - t0) / 1000)} s`,
    );
  };
  const watchdog = setInterval(() => {
    if (!target.running) s.stop = true;
  }, 200);
  const lanes = Array.from({ length: o.lanes }, (_, k) => new Lane(s, k));
  const postWorker = async (lane: Lane) => {
    while (!s.stop) {
      const i = post.shift();
      if (i === undefined) return;
      const t = Date.now();
      try {
        await lane.run(i);
      } catch (err) {
        if (!target.running) return;
        if (err instanceof HandshakeRefused) finding(s, 'refused', err.message, `#${i}`);
        else finding(s, 'lane error', String((err as Error).stack ?? err), `#${i}`);
      }
      const c = lane.lastCategory;
      report.categoryMs[c] = (report.categoryMs[c] ?? 0) + Date.now() - t;
      progress();
    }
  };
  const preWorker = async () => {
    while (!s.stop) {
      const i = pre.shift();
      if (i === undefined) return;
      const t = Date.now();
      let c = 'pre/?';
      try {
        c = await runPre(s, i);
      } catch (err) {
        finding(s, 'pre lane error', String((err as Error).stack ?? err), `#${i}`);
      }
      report.categoryMs[c] = (report.categoryMs[c] ?? 0) + Date.now() - t;
      progress();
    }
  };
  await Promise.all([...lanes.map(postWorker), ...Array.from({ length: o.preLanes }, preWorker)]);
  report.inputs = s.done;
  report.durationMs = Date.now() - t0;
  report.cpu = {
    fuzzer: selfCpu() - cpu0.fuzzer,
    target: (await procCpu(target.pid)) - cpu0.target,
    partner: partner ? (await procCpu(partner.pid)) - cpu0.partner : 0,
  };
  for (const lane of lanes) {
    lane.peer?.releaseSilent();
    lane.peer?.close();
  }
  staller?.destroy();
  log(`fuzz: ${s.done} inputs in ${report.durationMs} ms; checking`);
  // Stalled handshakes still open must be ended by the daemon itself (handshake timer,
  // header timeout); meanwhile the partner can start.
  const late = target.running && !partner ? startPartner() : null;
  if (late) log('fuzz: starting the partner daemon');
  late?.catch(() => {}); // awaited below; do not let an early failure go unhandled meanwhile
  await Promise.all(s.background);
  clearInterval(watchdog);
  const logEnd = target.mark();
  report.targetAlive = target.running;
  if (late) partner = await late;
  report.partnerAlive = partner?.running ?? false;
  if (!target.running) {
    finding(
      s,
      'crash',
      `target exited (${JSON.stringify(target.exit)}); last inputs:\n  ${s.recent.join('\n  ')}\n${target.tail(30)}`,
    );
  }
  if (!partner?.running)
    finding(s, 'crash', `partner exited (${JSON.stringify(partner?.exit)})\n${partner?.tail(30)}`);
  const summary = summariseLog(target, logMark, logEnd);
  summary.lines = logEnd - logMark;
  report.log = { ...summary, perInput: report.inputs ? summary.lines / report.inputs : 0 };
  for (const e of summary.errors.slice(0, 5)) finding(s, 'handler error in log', e);
  // Warnings of the node process itself (file handles closed by the garbage collector, ...).
  const warnings = new Map<string, number>();
  for (const l of target.lines()) {
    const m = /^\(node:\d+\) (?!\[DEP)(.*)/.exec(l.text);
    if (!m) continue;
    const key = m[1]!.replace(/\d+/g, 'N');
    warnings.set(key, (warnings.get(key) ?? 0) + 1);
  }
  for (const [w, n] of warnings) finding(s, 'process warning', `${n} x ${w}`);
  await checkAfter(report, target, partner, dirs, canaryBefore, o.seed);
  // Debugging aid: watch what the daemons transfer for a while after the checks.
  const linger = Number(process.env.FUZZ_LINGER ?? 0);
  for (let t = 0; t < linger; t += 5_000) {
    await new Promise((r) => setTimeout(r, 5_000));
    for (const d of [target, partner]) {
      if (!d) continue;
      const port = Number(d.args[d.args.indexOf('--port') + 1]);
      const st = await fetch(`http://127.0.0.1:${port}/status`)
        .then((r) => r.json() as Promise<{ transfers?: unknown[]; counts?: unknown; members?: unknown[] }>)
        .catch(() => null);
      log(
        `linger ${d.name}: transfers ${JSON.stringify(st?.transfers)} members ${JSON.stringify(st?.members)}`,
      );
    }
  }
  return report;
}

async function checkAfter(
  report: FuzzReport,
  target: Daemon,
  partner: Daemon | null,
  dirs: FuzzReport['dirs'],
  canaryBefore: Awaited<ReturnType<typeof snapshotTree>>,
  seed: number,
): Promise<void> {
  const folders = partner ? [dirs.target, dirs.partner] : [dirs.target];
  const look = async () => Promise.all(folders.map((d) => folderProblems(d)));
  const tempsOf = (fs: Awaited<ReturnType<typeof look>>) => [
    ...fs[0]!.temps,
    ...(fs[1]?.temps ?? []).map((x) => `partner:${x}`),
  ];
  // Temp files come and go while failed transfers are retried (each try has a new random
  // name); one still there, same name, after the sync check is a transfer that never ends.
  const early = new Set(tempsOf(await look()));
  const t0 = Date.now();
  // 1. A fresh file each way between the target and the well-behaved partner.
  if (target.running && partner?.running) {
    const a = `after-fuzz-${seed}-from-partner.txt`;
    const b = `after-fuzz-${seed}-from-target.txt`;
    await writeBytes(dirs.partner, a, `partner ${seed}\n`);
    await writeBytes(dirs.target, b, `target ${seed}\n`);
    const arrives = (dir: string, name: string) =>
      waitFor(
        () =>
          readFile(join(dir, name), 'utf8')
            .then((x) => x.length > 0)
            .catch(() => false),
        { timeoutMs: 30_000 },
      ).then(
        () => true,
        () => false,
      );
    const [x, y] = await Promise.all([arrives(dirs.target, a), arrives(dirs.partner, b)]);
    report.sync = { partnerToTarget: x, targetToPartner: y };
    if (!x || !y) {
      report.findings.push({
        kind: 'sync broken',
        detail: `after the run: partner->target ${x}, target->partner ${y}\n${target.tail(15)}\n${partner.tail(15)}`,
      });
    }
  }
  // 2. Let both folders settle (the partner may still be laying out the target's log), then
  //    look at them: no temp files left, no name a peer may not send, nothing outside.
  let last = -1;
  await waitFor(
    async () => {
      const now = await look();
      const n = now.reduce((sum, f) => sum + f.entries, 0);
      const settled = n === last && Date.now() - t0 >= 6_000;
      last = n;
      return settled;
    },
    { timeoutMs: 20_000, intervalMs: 1_000 },
  ).catch(() => {});
  const final = await look();
  const [t, p] = final;
  report.folderEntries = t!.entries;
  report.tempsLeft = tempsOf(final).filter((x) => early.has(x));
  report.refusedNames = [...t!.refused, ...(p?.refused ?? []).map((x) => `partner:${x}`)];
  report.canary = await canaryChanges(dirs.canary, canaryBefore);
  report.escaped = await escapedEntries(dirs.root, [dirs.target, dirs.partner]);
  for (const x of report.refusedNames.slice(0, 5))
    report.findings.push({ kind: 'refused name on disk', detail: x });
  if (report.tempsLeft.length) {
    // What the daemons said about those folders: why a transfer is still open there.
    const dirsOf = report.tempsLeft.map((x) =>
      x.replace(/^partner:/, '').replace(/\/?\.resonate-tmp-[^/]*$/, ''),
    );
    const said = [...target.lines(), ...(partner?.lines() ?? [])]
      .map((l) => l.text)
      .filter((t) => dirsOf.some((d) => d !== '' && t.includes(`path=${d}`)))
      .slice(-8);
    // And what they say they are transferring (GET /status, loopback: no token needed).
    const transfers: string[] = [];
    for (const [name, d] of [['target', target] as const, ['partner', partner] as const]) {
      const port = d ? Number(d.args[d.args.indexOf('--port') + 1]) : 0;
      if (!port) continue;
      const st = await fetch(`http://127.0.0.1:${port}/status`)
        .then((r) => r.json() as Promise<{ transfers?: unknown[]; counts?: unknown }>)
        .catch(() => null);
      transfers.push(
        `${name}: transfers ${JSON.stringify(st?.transfers)} counts ${JSON.stringify(st?.counts)}`,
      );
    }
    report.findings.push({
      kind: 'temp files left',
      detail: `${report.tempsLeft.slice(0, 5).join(', ')}\n${[...said, ...transfers].join('\n')}`,
    });
  }
  if (report.canary.length) report.findings.push({ kind: 'write outside', detail: report.canary.join('\n') });
  if (report.escaped.length)
    report.findings.push({ kind: 'write outside', detail: report.escaped.join('\n') });
}

function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds of a process so far (Linux /proc; 0 elsewhere). */
async function procCpu(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

/** Human-readable report. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `seed ${r.seed}: ${r.inputs} inputs in ${(r.durationMs / 1000).toFixed(1)} s (${r.reconnects} authenticated connections)`,
    `target alive: ${r.targetAlive}, partner alive: ${r.partnerAlive}; sync after: partner->target ${r.sync.partnerToTarget}, target->partner ${r.sync.targetToPartner}`,
    `outside the folders: canary ${r.canary.length ? r.canary.join('; ') : 'untouched'}, escaped entries ${r.escaped.length}`,
    `inside: ${r.folderEntries} entries, refused names ${r.refusedNames.length}, temp files left ${r.tempsLeft.length}`,
    `cpu during the inputs: fuzzer ${r.cpu.fuzzer.toFixed(1)} s, target ${r.cpu.target.toFixed(1)} s, partner ${r.cpu.partner.toFixed(1)} s`,
    `log: ${r.log.lines} lines (${r.log.perInput.toFixed(2)} per input); most frequent:`,
    ...r.log.byMessage.slice(0, 8).map(([m, n]) => `  ${String(n).padStart(7)}  ${m}`),
    `links lost to harmless inputs: ${JSON.stringify(r.closedUnexpectedly)}`,
    'why the fuzzing links ended (daemon log):',
    ...r.log.linkEnds.slice(0, 12).map(([m, n]) => `  ${String(n).padStart(7)}  ${m}`),
    `slowest inputs: ${r.slowest
      .slice(0, 3)
      .map((x) => `${x.ms} ms ${x.input}`)
      .join('; ')}`,
    'categories:',
    ...Object.entries(r.categories)
      .sort()
      .map(
        ([c, n]) => `  ${String(n).padStart(6)}  ${c}  (${Math.round((r.categoryMs[c] ?? 0) / n)} ms each)`,
      ),
    `findings: ${r.findings.length}`,
    ...r.findings.map((f) => `  [${f.kind}] ${f.detail}${f.input ? `\n      input ${f.input}` : ''}`),
  ];
  return lines.join('\n');
}
