import { execFileSync, spawnSync } from 'node:child_process';
import type { IpvsDestination, IpvsScheduler, IpvsService, IpvsServiceKey, IpvsTable } from '@fulcrum/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalTable, inListingOrder } from '../testing/dump-order.js';
import { formatIpvsadmCommand } from './command.js';
import { formatIpvsadmList } from './list.js';
import { parseCommandTokens } from './parse-command.js';
import { parseIpvsadmRestore } from './restore.js';
import { formatIpvsadmSave } from './save.js';
import { tokenizeLine } from './tokenize.js';

// Debian's ipvsadm on the lab kernel as the oracle: random tables go in through ipvsadm-restore
// and must come out of ipvsadm-save / ipvsadm -Ln exactly as this library prints them, and the
// option parser must accept and refuse the same command lines. All in a namespace of our own.

const NS = 'ffmt-ipvs';
const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', timeout: 120_000, input, stdio: ['pipe', 'pipe', 'pipe'] });
const inNs = (cmd: string, args: string[], input?: string): string => run('ip', ['netns', 'exec', NS, cmd, ...args], input);
const ipvsadm = (...args: string[]): string => inNs('ipvsadm', args);

const MODULES = ['dummy', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_wlc', 'ip_vs_lblc', 'ip_vs_lblcr', 'ip_vs_dh', 'ip_vs_sh',
  'ip_vs_sed', 'ip_vs_nq', 'ip_vs_fo', 'ip_vs_ovf', 'ip_vs_mh', 'ip_vs_pe_sip'];
const SCHEDULERS_6_1: IpvsScheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];

beforeAll(() => {
  if (process.env.FULCRUM_LAB !== '1') throw new Error('kernel specs run inside the lab VM (node tools/lab/bin/lab.mjs)');
  for (const m of MODULES) run('modprobe', [m]);
  spawnSync('ip', ['netns', 'del', NS]);
  run('ip', ['netns', 'add', NS]);
  inNs('ip', ['link', 'set', 'lo', 'up']);
  // The kernel refuses real servers it has no unicast route to; a default route covers all.
  inNs('ip', ['link', 'add', 'fx0', 'type', 'dummy']);
  inNs('ip', ['link', 'set', 'fx0', 'up']);
  inNs('ip', ['addr', 'add', '203.0.113.254/24', 'dev', 'fx0']);
  inNs('ip', ['-6', 'addr', 'add', '2001:db8:ffff::fe/64', 'dev', 'fx0', 'nodad']);
  inNs('ip', ['route', 'add', 'default', 'dev', 'fx0']);
  inNs('ip', ['-6', 'route', 'add', 'default', 'dev', 'fx0']);
});

afterAll(() => {
  spawnSync('ip', ['netns', 'del', NS]);
});

interface Outcome {
  status: number;
  stderr: string;
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Run the lines with ipvsadm in one shell inside the namespace (a process per call is slow in the emulated guest). */
function runIpvsadm(lines: readonly string[], before: (i: number) => string): Outcome[] {
  const script = lines
    .map((line, i) => `${before(i)}\nipvsadm ${line.split(' ').map(quote).join(' ')} 2>/tmp/ffmt-err >/dev/null; echo "@@${i} $?"; cat /tmp/ffmt-err`)
    .join('\n');
  const out = inNs('sh', ['-s'], script);
  const outcomes: Outcome[] = [];
  for (const chunk of out.split(/^@@/m).slice(1)) {
    const [head, ...rest] = chunk.split('\n');
    const [index, status] = (head as string).split(' ').map(Number);
    outcomes[index as number] = { status: status as number, stderr: rest.join('\n').trim() };
  }
  expect(outcomes).toHaveLength(lines.length);
  return outcomes;
}

/** Shell lines that put the BASE table in place. */
const reset = () => `ipvsadm -C\nipvsadm -R <<'EOF'\n${BASE.join('\n')}\nEOF`;

/** Each line on a fresh copy of the BASE table: what the kernel says depends on what is there. */
const ipvsadmEachOnBase = (lines: readonly string[]) => runIpvsadm(lines, reset);

/** The lines one after the other from the BASE table: enough to tell the option parser's verdict. */
const ipvsadmInTurn = (lines: readonly string[]) => runIpvsadm(lines, (i) => (i === 0 ? reset() : ''));

/** ipvsadm's (libipvs') wording for what the kernel refused, as opposed to its option parser's. */
const KERNEL_REFUSAL = /already exists|No such|not defined|Invalid operation|not found|not supported|out of range|Memory allocation/;

/** mulberry32: a small seeded generator, so a failing table can be made again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTable(seed: number, count: number): IpvsTable {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T;
  const chance = (p: number) => r() < p;
  // Unicast addresses all around the 2^32 circle (so ipvsadm's wrapping sort shows), none local.
  const v4 = () => `${pick([1, 9, 10, 42, 100, 126, 128, 172, 192, 200, 223, int(1, 223)].filter((o) => o !== 127 && o !== 203))}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
  const v6 = () => `${pick(['2001:db8', 'fd00', '2a00:1450', '3fff'])}:${int(0, 0xffff).toString(16)}::${int(1, 0xffff).toString(16)}`;
  const services = new Map<string, IpvsService>();
  while (services.size < count) {
    const kindRoll = r();
    const six = chance(0.3);
    const key: IpvsServiceKey =
      kindRoll < 0.15
        ? { kind: 'fwmark', fwmark: pick([int(1, 1000), int(0x7fff0000, 0x80010000), int(1, 0xffffffff)]), family: six ? 'inet6' : 'inet' }
        : { kind: 'addr', protocol: pick(['tcp', 'tcp', 'udp', 'sctp'] as const), address: six ? v6() : v4(), port: pick([80, 443, 53, 0, int(1, 65535)]) };
    const id = key.kind === 'fwmark' ? `f${key.fwmark}${key.family}` : `${key.protocol}${key.address}${key.port}`;
    if (services.has(id)) continue;
    const scheduler = pick(SCHEDULERS_6_1);
    const persistence = (key.kind === 'addr' && key.port === 0) || chance(0.3) ? pick([360, int(1, 2678400)]) : 0;
    const udpLike = key.kind === 'fwmark' || key.protocol === 'udp';
    const service: IpvsService = {
      key,
      scheduler,
      flags: { onePacket: udpLike && chance(0.3), shFallback: false, shPort: false, mhFallback: false, mhPort: false },
      persistence,
      destinations: [],
    };
    if (scheduler === 'mh') Object.assign(service.flags, { mhFallback: chance(0.5), mhPort: chance(0.5) });
    else Object.assign(service.flags, { shFallback: chance(0.3), shPort: chance(0.3) });
    if (persistence > 0 && chance(0.5)) service.persistencePrefix = six ? int(1, 127) : int(0, 31);
    if (persistence > 0 && key.kind === 'addr' && key.protocol === 'udp' && chance(0.3)) service.persistenceEngine = 'sip';
    const servicePort = key.kind === 'addr' ? key.port : 0;
    const seen = new Set<string>();
    for (let i = int(0, 6); i > 0; i--) {
      const forward = pick(['route', 'masq', 'tunnel'] as const);
      const otherFamily = forward === 'tunnel' && chance(0.2);
      const d: IpvsDestination = {
        address: six !== otherFamily ? v6() : v4(),
        // DR and TUN servers of an address service always get the service's port.
        port: key.kind === 'addr' && forward !== 'masq' ? servicePort : pick([0, 80, int(1, 65535)]),
        forward,
        weight: pick([0, 1, int(0, 65535)]),
        upperThreshold: 0,
        lowerThreshold: 0,
        tunnelType: 'ipip',
        tunnelPort: 0,
        tunnelFlags: [],
      };
      if (chance(0.3)) {
        d.upperThreshold = int(1, 100000);
        d.lowerThreshold = int(0, d.upperThreshold);
      }
      if (forward === 'tunnel') {
        d.tunnelType = pick(['ipip', 'gue', 'gre'] as const);
        if (d.tunnelType === 'gue') {
          d.tunnelPort = int(1, 65535);
          d.tunnelFlags = pick([[], ['csum'], ['remcsum']] as ('csum' | 'remcsum')[][]);
        }
        if (d.tunnelType === 'gre') d.tunnelFlags = pick([[], ['csum']] as ('csum' | 'remcsum')[][]);
      }
      const did = `${d.address}|${d.port}`;
      if (seen.has(did)) continue;
      seen.add(did);
      service.destinations.push(d);
    }
    services.set(id, service);
  }
  return { services: [...services.values()] };
}

describe('random tables through Debian ipvsadm on the lab kernel', () => {
  it.each([1, 2, 3])('seed %i: ipvsadm-save -n and ipvsadm -Ln print what this library prints', (seed) => {
    const table = randomTable(seed, 40);
    ipvsadm('-C');
    // Our own command lines are the restore input: ipvsadm must take every one of them.
    const restoreInput = table.services
      .flatMap((s) => [
        formatIpvsadmCommand({ op: 'addService', service: s }),
        ...s.destinations.map((destination) => formatIpvsadmCommand({ op: 'addDestination', key: s.key, destination })),
      ])
      .join('\n');
    const messages = spawnSync('ip', ['netns', 'exec', NS, 'ipvsadm-restore'], { input: restoreInput, encoding: 'utf8' });
    expect(messages.stderr).toBe('');
    expect(messages.status).toBe(0);

    const kernelOrder = inListingOrder(table, ipvsadm('-Ln', '--nosort'));
    const saved = ipvsadm('-S', '-n');
    expect(formatIpvsadmSave(kernelOrder)).toBe(saved);
    expect(formatIpvsadmList(kernelOrder)).toBe(ipvsadm('-Ln'));
    expect(formatIpvsadmList(kernelOrder, { view: 'thresholds' })).toBe(ipvsadm('-Ln', '--thresholds'));
    expect(formatIpvsadmList(kernelOrder, { view: 'tun-info' })).toBe(ipvsadm('-Ln', '--tun-info'));
    expect(formatIpvsadmList(kernelOrder, { view: 'persistent-conn' })).toBe(ipvsadm('-Ln', '--persistent-conn'));

    // And what ipvsadm saved reads back as the same table, but for the thresholds it leaves out.
    const withoutThresholds = table.services.map((s) => ({ ...s, destinations: s.destinations.map((d) => ({ ...d, upperThreshold: 0, lowerThreshold: 0 })) }));
    expect(canonicalTable(parseIpvsadmRestore(saved).table)).toEqual(canonicalTable({ services: withoutThresholds }));
  });
});

// Command lines run against a table holding these, one by one; exit status 2 is ipvsadm's
// option parser refusing the line (the kernel's refusals exit 255).
const BASE = ['-A -t 10.0.0.1:80', '-A -u 10.0.0.1:53', '-A -f 5', '-A -t [2001:db8::1]:80', '-a -t 10.0.0.1:80 -r 10.0.0.2'];

// Where this parser knowingly differs from ipvsadm 1.31 (see the package README).
const KNOWN_DIFFERENCES = new Map([
  ['-A -f -5 -s rr', 'negative marks are read back as ipvsadm 1.31 prints marks above 2^31-1'],
  ['-A -t 10.0.0.9:+80', 'ports are decimal digits only'],
  ['-a -t 10.0.0.1:80 -r 10.0.0.9 -w 70000', 'the table model caps weights at 65535'],
  ['-A -t 10.0.0.9:80 -s wrr -b flag-3', 'the table model has no third scheduler flag'],
  ['-A -t 10.0.0.010:80', 'inet_aton reads 010 as octal 8; refused here'],
  ['-A -t 10.1:80', 'inet_aton reads 10.1 as 10.0.0.1; refused here'],
  ['-A -t localhost:80', 'host names are not resolved'],
  ['-A -t 10.0.0.9:http', 'service names are not resolved'],
  ['-A -t 10.0.0.9:80 -M 255.0.255.0', 'the table model keeps persistence masks as prefix lengths'],
]);

const LINES = [
  '-A -t 10.0.0.9:80', '-A -t 10.0.0.9:80 -s wrr -p 50 -M 255.255.255.0', '-A -t 10.0.0.9', '-A -t 10.0.0.9 -p', '-A -t 10.0.0.9:80 -p 0',
  '-A -t 10.0.0.9:80 -p 2678401', '-A -t 10.0.0.9:80 -p50', '-A -t 10.0.0.9:80 --persistent=50', '-A -t 10.0.0.9:80 -M 255.255.0.0',
  '-A -t 10.0.0.9:80 -s sh -b sh-fallback,sh-port', '-A -t 10.0.0.9:80 -s wrr -b sh-port', '-A -t 10.0.0.9:80 -b flag-1',
  '-A -t 10.0.0.9:80 -s mh -b bogus', '-A -u 10.0.0.9:53 -o', '-A -t 10.0.0.9:53 -o', '-A -f 6 -o', '-A -f 0', '-A -f 4294967296',
  '-A -6 -f 6', '-A -f 6 -6 -p -M 64', '-A -u 10.0.0.9:5060 -p --pe sip', '-A --sctp-service 10.0.0.9:80', '-At 10.0.0.9:80',
  '-At10.0.0.9:80 -sovf', '-A -t 10.0.0.9:80 -s', '-A -t 10.0.0.9:80 -w 3', '-A -t 10.0.0.9:80 extra', '-A -t 10.0.0.9:80 -s wrr -s rr',
  '-A -t 10.0.0.9:65536', '-A -t 10.0.0.9:', '-A -t 80', '-A -t [2001:db8::9]:80', '-A -t [2001:db8::9]', '-A -t 2001:db8::9 -p',
  '-A -t [2001:db8::9]:80 -p -M 129', '-E -t 10.0.0.1:80 -s rr', '-D -t 10.0.0.1:80 -s rr', '-C -t 10.0.0.1:80', '--set 10 20',
  '--set 10 20 30 40', '-Z -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 10.0.0.3:8080 -m -w 0', '-a -t 10.0.0.1:80 -r 10.0.0.3 -w -1',
  '-a -t 10.0.0.1:80 -r 10.0.0.3 -x 100 -y 50', '-a -t 10.0.0.1:80 -r 10.0.0.3 -x 2147483648', '-a -t 10.0.0.1:80 -r 10.0.0.3 -g -m',
  '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gue --tun-port 6080', '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gue',
  '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum',
  '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gre --tun-remcsum', '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gre --tun-port 5',
  '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type ipip --tun-nocsum', '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type vxlan',
  '-a -t 10.0.0.1:80 -r 10.0.0.3 -m --tun-type gre', '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gue --tun-port 0',
  '-a -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r [2001:db8::3]:80', '-a -t 10.0.0.1:80 -r 10.0.0.3 -n', '-a -t 10.0.0.1:80 -r 10.0.0.3 -mw 3',
  '-d -t 10.0.0.1:80 -r 10.0.0.2 -w 1', '-a -f 5 -r 10.0.0.3', '-e -t 10.0.0.1:80 -r 10.0.0.2 -w 5', '-d -t 10.0.0.1:80 -r 10.0.0.2',
  '--add-server --tcp-service 10.0.0.1:80 --real-server 10.0.0.4 --masquerading --weight 2 --u-threshold 10 --l-threshold 5',
  '-A', '-Q', '-A -t 10.0.0.9:80 --bogus', '-A -t 10.0.0.9:80 -- -s rr', '-A -t 10.0.0.9:80 --ops=1',
  ...KNOWN_DIFFERENCES.keys(),
];

describe("the option parser agrees with ipvsadm's", () => {
  it('on which command lines to accept', () => {
    // A line the kernel refuses (e.g. a service added twice) still got past the option parser.
    const outcomes = ipvsadmInTurn(LINES);
    const disagreements: string[] = [];
    LINES.forEach((line, i) => {
      const { status, stderr } = outcomes[i] as Outcome;
      const theirs = status === 0 || KERNEL_REFUSAL.test(stderr) ? 'accepted' : 'refused';
      const ours = parseCommandTokens(tokenizeLine(line, 1)).located ? 'accepted' : 'refused';
      const expected = KNOWN_DIFFERENCES.has(line) ? (theirs === 'accepted' ? 'refused' : 'accepted') : theirs;
      if (ours !== expected) disagreements.push(`${line}: ipvsadm ${theirs} (${status} ${stderr}), ours ${ours}`);
    });
    expect(disagreements).toEqual([]);
  });

  it('on what the kernel refuses when the commands are replayed', () => {
    const cases: [string, string][] = [
      ['-A -t 10.0.0.1:80', 'Service already exists'],
      ['-E -t 10.0.0.9:80', 'No such service'],
      ['-D -t 10.0.0.9:80', 'No such service'],
      ['-a -t 10.0.0.9:80 -r 10.0.0.3', 'Service not defined'],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2', 'Destination already exists'],
      ['-e -t 10.0.0.1:80 -r 10.0.0.3', 'No such destination'],
      ['-d -t 10.0.0.1:80 -r 10.0.0.3', 'No such destination'],
      ['-a -t 10.0.0.1:80 -r 10.0.0.3 -y 5', 'Numerical result out of range'],
      ['-a -t 10.0.0.1:80 -r 10.0.0.3 -x 5 -y 6', 'Numerical result out of range'],
    ];
    const outcomes = ipvsadmEachOnBase(cases.map(([line]) => line));
    cases.forEach(([line, message], i) => {
      expect({ line, ...outcomes[i] }).toEqual({ line, status: 255, stderr: message });
      let ours = '';
      try {
        parseIpvsadmRestore([...BASE, line].join('\n'));
      } catch (err) {
        ours = (err as Error).message;
      }
      expect(ours, line).toContain(`line ${BASE.length + 1}`);
      expect(ours, line).toContain(message);
    });
  });
});
