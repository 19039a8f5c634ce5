import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { downCounts, haproxyCommand, haproxyConfig } from './haproxy.js';
import type { CheckerReply, CheckerWindow, ListenerReply } from './ipc.js';

// Health-check benchmark: N TCP real servers on loopback in a network namespace of its own, checked
// every interval for `duration` seconds, by HAProxy (Debian) and then by the Fulcrum engine, on the same
// listeners, in `rounds` alternating rounds (a fresh process each): on this shared host one phase's CPU
// per check varies by a third from run to run, so the ratio is of the medians over the rounds, and each
// round's figures are printed too. Backends are killed in the last Fulcrum phase only. Prints CPU,
// checks/s, latency, false downs and detection latency as a table.
//   npx tsx tools/bench/src/health/run.ts [--servers 10000] [--duration 60] [--rounds 3] [--interval 1] [--kills 10]

const USAGE = 'usage: run.ts [--servers N] [--duration S] [--rounds R] [--interval S] [--kills N] [--base-port P]';
const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    interval: { type: 'string', default: '1' },
    kills: { type: 'string', default: '10' },
    'base-port': { type: 'string', default: '20000' },
  },
});
const num = (name: keyof typeof values, min: number, max: number): number => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < min || v > max) {
    process.stderr.write(`--${name} must be a number from ${min} to ${max}, got ${String(values[name])}\n${USAGE}\n`);
    process.exit(2);
  }
  return v;
};
const servers = num('servers', 1, 15_000);
const duration = num('duration', 5, 3600);
const rounds = Math.round(num('rounds', 1, 20));
const interval = num('interval', 0.1, 60);
const kills = num('kills', 0, 100);
const base = num('base-port', 1024, 65_535 - servers);

const here = fileURLToPath(new URL('.', import.meta.url));
const NS_ENV = 'FULCRUM_BENCH_NETNS';

if (process.env[NS_ENV] === undefined) {
  // Outside: make a namespace of our own, run this script inside it, remove it.
  const ns = `fulcrum-bench-hc-${process.pid}`;
  const ip = (...args: string[]): void => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  ip('netns', 'add', ns);
  let code = 1;
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, [NS_ENV]: ns },
    });
    const stop = (): void => void child.kill('SIGTERM');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    [code] = (await once(child, 'exit')) as [number];
  } finally {
    ip('netns', 'del', ns);
  }
  process.exit(code ?? 1);
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** FULCRUM_BENCH_PROFILE=<dir> writes a V8 CPU profile of the Fulcrum checker there. */
const profileDir = process.env.FULCRUM_BENCH_PROFILE;

function forkChild(file: string, args: (string | number)[], profile = false): ChildProcess {
  const execArgv = ['--import', 'tsx', ...(profile && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  return fork(join(here, file), args.map(String), { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T extends { cmd: string }>(child: ChildProcess, cmd: T['cmd'], timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${cmd} from child ${child.pid} within ${timeoutMs} ms`)), timeoutMs);
    const on = (msg: T): void => {
      if (msg.cmd !== cmd) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(msg);
    };
    child.on('message', on);
  });
}

/**
 * TCP connections this namespace's clients opened (ActiveOpens in /proc/net/snmp): one per check
 * attempt, counted by the kernel, whichever checker made it. Only one checker runs at a time.
 */
function activeOpens(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = (lines[0] ?? '').split(/\s+/);
  const values = (lines[1] ?? '').split(/\s+/);
  return Number(values[names.indexOf('ActiveOpens')]);
}

interface PhaseResult {
  cpuSeconds: number;
  checks: number;
  seconds: number;
  /** The host's 1-minute load average at the end of the phase: the two phases run one after the other, on a shared host. */
  load: string;
}

async function measure(pid: number, during?: (t0: number) => Promise<void>): Promise<PhaseResult> {
  const cpu0 = cpuSeconds(pid);
  const acc0 = activeOpens();
  const t0 = performance.now();
  await Promise.all([sleep(duration * 1000), during?.(t0)]);
  const cpu1 = cpuSeconds(pid);
  const acc1 = activeOpens();
  return { cpuSeconds: cpu1 - cpu0, checks: acc1 - acc0, seconds: (performance.now() - t0) / 1000, load: loadAverage().split(' ')[0] ?? '?' };
}

const warmupMs = interval * 1000 + 3000;
const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

const listeners = forkChild('listeners.ts', [base, servers]);
const ready = await nextMessage<Extract<ListenerReply, { cmd: 'ready' }>>(listeners, 'ready');
log(`${ready.listening} listeners on 127.0.0.1:${base}-${base + servers - 1} in ${process.env[NS_ENV]}`);

// Each round: HAProxy first, so that the kills of the last Fulcrum phase leave it no closed ports to check.
async function haproxyPhase(round: number): Promise<PhaseResult & { down: ReturnType<typeof downCounts> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-hc-'));
  const socket = join(dir, 'haproxy.sock');
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig({ base, count: servers, intervalS: interval, socket, frontendPort: base - 1 }));
  const haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  let haproxyExit: number | null = null;
  haproxy.on('exit', (code) => (haproxyExit = code ?? 1));
  await sleep(warmupMs);
  if (haproxyExit !== null) {
    log(`HAProxy exited with ${haproxyExit} before the measurement; its config is in ${dir}`);
    process.exit(1);
  }
  log(`round ${round}: HAProxy ${haproxy.pid}: measuring ${duration} s`);
  const phase = await measure(haproxy.pid as number);
  const down = downCounts(await haproxyCommand(socket, 'show stat'));
  haproxy.kill('SIGTERM');
  await once(haproxy, 'exit');
  rmSync(dir, { recursive: true, force: true });
  return { ...phase, down };
}

const downs: Extract<CheckerReply, { cmd: 'down' }>[] = [];
const killed = new Map<number, number>();

async function fulcrumPhase(round: number, withKills: boolean): Promise<PhaseResult & { win: CheckerWindow }> {
  const checker = forkChild('checker.ts', [base, servers, interval], withKills);
  checker.on('message', (m: CheckerReply) => {
    if (m.cmd === 'down') downs.push(m);
  });
  await nextMessage(checker, 'ready');
  await sleep(warmupMs);
  log(`round ${round}: Fulcrum ${checker.pid}: measuring ${duration} s${withKills ? `, killing ${kills} backends in the second half` : ''}`);
  checker.send({ cmd: 'window-start' });
  const phase = await measure(checker.pid as number, async (t0) => {
    if (!withKills) return;
    // Kills in the second half, spaced out, each at a random phase of the check interval.
    for (let i = 0; i < kills; i++) {
      const at = t0 + duration * 1000 * (0.5 + (0.4 * i) / Math.max(1, kills)) + Math.random() * interval * 1000;
      await sleep(Math.max(0, at - performance.now()));
      const port = base + Math.floor(Math.random() * servers);
      if (killed.has(port)) continue;
      const reply = nextMessage<Extract<ListenerReply, { cmd: 'killed' }>>(listeners, 'killed');
      listeners.send({ cmd: 'kill', port });
      killed.set(port, (await reply).at);
    }
  });
  const windowReply = nextMessage<{ cmd: 'window' } & CheckerWindow>(checker, 'window');
  checker.send({ cmd: 'window-end' });
  const win = await windowReply;
  if (withKills) await sleep(interval * 1000 + 1500); // a kill near the end still gets its detection
  const exited = once(checker, 'exit');
  checker.disconnect();
  await exited;
  return { ...phase, win };
}

const haps: Awaited<ReturnType<typeof haproxyPhase>>[] = [];
const ourPhases: Awaited<ReturnType<typeof fulcrumPhase>>[] = [];
for (let round = 1; round <= rounds; round++) {
  haps.push(await haproxyPhase(round));
  ourPhases.push(await fulcrumPhase(round, round === rounds));
}
listeners.disconnect();
const hap = haps.at(-1) as (typeof haps)[number];
const ours = ourPhases.at(-1) as (typeof ourPhases)[number];
const win = ours.win;
const hapDown = {
  transitions: haps.reduce((n, h) => n + h.down.transitions, 0),
  notUp: hap.down.notUp,
  servers: hap.down.servers,
};

const detection = [...killed].map(([port, at]) => {
  const d = downs.find((x) => x.port === port);
  return d ? d.at - at : Number.NaN;
});
const detected = detection.filter((d) => Number.isFinite(d)).sort((a, b) => a - b);
const falseDowns = downs.filter((d) => !killed.has(d.port));
for (const d of falseDowns.slice(0, 5)) log(`false down: ${d.reason}`);

const perCheckUs = (p: PhaseResult): number => (p.cpuSeconds / p.checks) * 1e6;
const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? (v[(v.length - 1) / 2] as number) : ((v[v.length / 2 - 1] as number) + (v[v.length / 2] as number)) / 2;
};
const oursUs = ourPhases.map(perCheckUs);
const hapUs = haps.map(perCheckUs);
const f = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const budgetMs = interval * 1000 + 50;
const rows: [string, string, string][] = [
  ['real servers, interval', `${servers}, ${interval} s`, `${servers}, ${interval} s`],
  ['host load at the end of each phase (1 min)', ourPhases.map((p) => p.load).join(' '), haps.map((p) => p.load).join(' ')],
  ['checks/s (TCP connects, kernel count), each round', ourPhases.map((p) => f(p.checks / p.seconds, 0)).join(' '), haps.map((p) => f(p.checks / p.seconds, 0)).join(' ')],
  ['CPU (% of one core), each round', ourPhases.map((p) => f((100 * p.cpuSeconds) / p.seconds)).join(' '), haps.map((p) => f((100 * p.cpuSeconds) / p.seconds)).join(' ')],
  ['CPU per check (us), each round', oursUs.map((v) => f(v)).join(' '), hapUs.map((v) => f(v)).join(' ')],
  ['CPU per check (us), median', f(median(oursUs)), f(median(hapUs))],
  ['check latency p50 / p99 / max (ms), last round', `${f(win.p50Ms, 3)} / ${f(win.p99Ms, 3)} / ${f(win.maxMs, 1)}`, 'n/a'],
  ['false "down", all rounds', String(falseDowns.length), `${hapDown.transitions} (${hapDown.notUp} of ${hapDown.servers} not UP at the end)`],
  [
    `detection of a killed backend (ms; target <= ${budgetMs})`,
    detected.length ? `median ${f(detected[Math.floor(detected.length / 2)] as number, 0)}, max ${f(detected.at(-1) as number, 0)} (${detected.length} of ${killed.size})` : 'none',
    'not measured',
  ],
  ['checks waiting for a slot (max), last round', String(win.maxWaiting), 'n/a'],
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(7, ...rows.map((r) => r[1].length));
const line = (a: string, b: string, c: string): string => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |\n`;
let out = `\nHealth checks: Fulcrum engine vs HAProxy ${haproxyVersion()}, ${rounds} rounds of ${duration} s each, load average ${loadAverage()}\n\n`;
out += line('', 'Fulcrum', 'HAProxy');
out += `| ${'-'.repeat(w0)} | ${'-'.repeat(w1)} | --- |\n`;
for (const [a, b, c] of rows) out += line(a, b, c);
const ratio = median(oursUs) / median(hapUs);
const perRound = oursUs.map((v, i) => f(v / (hapUs[i] as number), 2)).join(' ');
out += `\nCPU per check, Fulcrum / HAProxy (medians): ${f(ratio, 2)} (target <= 1.5: ${ratio <= 1.5 ? 'met' : 'NOT met'}; stretch 1.0); each round ${perRound}\n`;
process.stdout.write(out);

function haproxyVersion(): string {
  return /version (\S+)/.exec(spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
}
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
