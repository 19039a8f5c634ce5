import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAdvert } from './check.js';
import { decodePacket, encodeAdvert, encodeIpv4Packet, passwordAuth } from './packet.js';
import type { VrrpAdvert } from './packet.js';

// keepalived 2.2.7 (Debian's) and this codec on one veth link between two network namespaces made
// here: what keepalived sends decodes and re-encodes to the same bytes, and what we encode moves
// keepalived's state machine the way the RFCs say. Packets leave and arrive through small Python
// raw-socket helpers (libs/vrrp/fixtures), since this library has no sockets of its own.

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const id = process.pid % 100_000;
const nsKa = `fvrrp-ka-${id}`;
const nsUs = `fvrrp-us-${id}`;
const ifKa = `fvk${id}`;
const ifUs = `fvu${id}`;
const KA4 = '10.202.0.1';
const US4 = '10.202.0.2';
const KA6 = 'fe80::1';
const US6 = 'fe80::2';
const PASSWORD = 's3cr3t';

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: 'pipe' }).toString();
const inUs = (...args: string[]) => run('ip', 'netns', 'exec', nsUs, ...args);

let dir = '';
let keepalived: ChildProcess | undefined;
let logPath = '';

function requireTool(cmd: string, hint: string): void {
  try {
    run('sh', '-c', `command -v ${cmd}`);
  } catch (err) {
    throw new Error(`keepalived interop needs ${cmd} (${hint})`, { cause: err });
  }
}

const log = () => readFileSync(logPath, 'utf8');

/** Waits until the keepalived log, after `from` characters, matches; returns where the match ends. */
async function waitForLog(pattern: RegExp, from: number, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = log();
    const m = pattern.exec(text.slice(from));
    if (m) return from + m.index + m[0].length;
    if (Date.now() > until) throw new Error(`keepalived never logged ${pattern} within ${timeoutMs} ms; log since:\n${text.slice(from)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Captured {
  family: 'ipv4' | 'ipv6';
  ip?: string;
  src?: string;
  dst?: string;
  hopLimit?: number;
  vrrp?: string;
}

async function capture(seconds: number, max: number): Promise<Captured[]> {
  const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', nsUs, 'python3', join(fixtures, 'capture.py'), ifUs, String(seconds), String(max)]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Captured);
}

function send4(advert: VrrpAdvert): void {
  inUs('python3', join(fixtures, 'send.py'), ifUs, 'ipv4', encodeIpv4Packet(advert, { srcAddr: US4, id: 7 }).toString('hex'));
}

function send6(advert: VrrpAdvert): void {
  const msg = encodeAdvert(advert, { family: 'ipv6', srcAddr: US6, dstAddr: 'ff02::12' });
  inUs('python3', join(fixtures, 'send.py'), ifUs, 'ipv6', msg.toString('hex'), US6);
}

const v2pass = (priority: number, password = PASSWORD): VrrpAdvert => ({
  version: 2,
  vrid: 51,
  priority,
  intervalMs: 1000,
  addresses: ['10.202.0.100'],
  auth: passwordAuth(password),
});
const v3ipv4 = (priority: number): VrrpAdvert => ({ version: 3, vrid: 61, priority, intervalMs: 100, addresses: ['10.202.0.110'] });
const v3ipv6 = (priority: number): VrrpAdvert => ({ version: 3, vrid: 71, priority, intervalMs: 1000, addresses: ['fd00:202::100'] });

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('keepalived interop needs root (network namespaces, raw sockets)');
  requireTool('ip', 'apt-get install iproute2');
  requireTool('keepalived', 'apt-get install keepalived');
  requireTool('python3', 'apt-get install python3');
  dir = mkdtempSync(join(tmpdir(), 'fulcrum-vrrp-interop-'));
  logPath = join(dir, 'keepalived.log');
  run('ip', 'netns', 'add', nsKa);
  run('ip', 'netns', 'add', nsUs);
  run('ip', 'link', 'add', ifKa, 'netns', nsKa, 'type', 'veth', 'peer', 'name', ifUs, 'netns', nsUs);
  for (const [ns, dev, v4, v6] of [
    [nsKa, ifKa, KA4, KA6],
    [nsUs, ifUs, US4, US6],
  ] as const) {
    run('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    // Fixed link-local addresses: keepalived sends IPv6 adverts from the interface's link-local one.
    run('ip', '-n', ns, 'link', 'set', dev, 'addrgenmode', 'none');
    run('ip', '-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev);
    run('ip', '-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev);
    run('ip', '-n', ns, 'link', 'set', dev, 'up');
  }
  const instance = (name: string, body: string) =>
    `vrrp_instance ${name} {\n  state MASTER\n  interface ${ifKa}\n  priority 100\n${body}\n}\n`;
  writeFileSync(
    join(dir, 'keepalived.conf'),
    [
      'global_defs {\n  router_id interop\n  vrrp_startup_delay 0.001\n}\n',
      instance('v2pass', `  virtual_router_id 51\n  advert_int 1\n  authentication {\n    auth_type PASS\n    auth_pass ${PASSWORD}\n  }\n  virtual_ipaddress {\n    10.202.0.100/24\n  }`),
      instance('v3ipv4', '  version 3\n  virtual_router_id 61\n  advert_int 0.1\n  virtual_ipaddress {\n    10.202.0.110/24\n  }'),
      instance('v3ipv6', '  version 3\n  virtual_router_id 71\n  advert_int 1\n  virtual_ipaddress {\n    fd00:202::100/64\n  }'),
    ].join('\n'),
  );
  const out = openSync(logPath, 'a');
  keepalived = spawn(
    'ip',
    ['netns', 'exec', nsKa, 'keepalived', '-n', '-P', '-D', '-l', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'ka.pid'), '-r', join(dir, 'vrrp.pid'), '-c', join(dir, 'chk.pid')],
    { stdio: ['ignore', out, out] },
  );
  for (const name of ['v2pass', 'v3ipv4', 'v3ipv6']) await waitForLog(new RegExp(`\\(${name}\\) Entering MASTER STATE`), 0, 15_000);
});

afterAll(async () => {
  if (keepalived && keepalived.exitCode === null) {
    const exited = new Promise((r) => keepalived?.once('exit', r));
    keepalived.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  for (const ns of [nsKa, nsUs]) {
    try {
      run('ip', 'netns', 'del', ns);
    } catch {
      // not created (set-up failed early): nothing to remove
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('interop with keepalived 2.2.7 on a veth link', () => {
  it('decodes every live keepalived advert (v2 PASS, v3 IPv4 0.1 s, v3 IPv6) and re-encodes it byte for byte', async () => {
    const packets = await capture(2.5, 200);
    const seen = new Set<number>();
    for (const p of packets) {
      if (p.family === 'ipv4') {
        const bytes = Buffer.from(p.ip as string, 'hex');
        const r = decodePacket(bytes, { family: 'ipv4', hasIpHeader: true });
        if (!r.ok) throw new Error(`${p.ip}: ${r.reason} ${r.detail}`);
        expect(r.packet.srcAddr).toBe(KA4);
        const expectation =
          r.advert.version === 2
            ? { family: 'ipv4' as const, version: 2 as const, vrid: 51, intervalMs: 1000, auth: passwordAuth(PASSWORD), addresses: ['10.202.0.100'] }
            : { family: 'ipv4' as const, version: 3 as const, vrid: 61, intervalMs: 100, addresses: ['10.202.0.110'] };
        expect(checkAdvert(r.advert, expectation)).toEqual({ ok: true });
        expect(encodeIpv4Packet(r.advert, { srcAddr: KA4, id: bytes.readUInt16BE(4) }).equals(bytes)).toBe(true);
        seen.add(r.advert.vrid);
      } else {
        const r = decodePacket(Buffer.from(p.vrrp as string, 'hex'), { family: 'ipv6', srcAddr: p.src as string, dstAddr: p.dst as string, ttl: p.hopLimit as number });
        if (!r.ok) throw new Error(`${p.vrrp}: ${r.reason} ${r.detail}`);
        expect(r.packet.srcAddr).toBe(KA6);
        expect(checkAdvert(r.advert, { family: 'ipv6', version: 3, vrid: 71, intervalMs: 1000, addresses: ['fd00:202::100'] })).toEqual({ ok: true });
        expect(encodeAdvert(r.advert, { family: 'ipv6', srcAddr: KA6, dstAddr: 'ff02::12' }).toString('hex')).toBe(p.vrrp);
        seen.add(r.advert.vrid);
      }
    }
    expect([...seen].sort()).toEqual([51, 61, 71]);
  });

  it('keepalived refuses our v2 advert with the wrong password and stays master', async () => {
    const from = log().length;
    send4(v2pass(200, 'wrong'));
    await waitForLog(/\(v2pass\) received an invalid passwd/, from, 3000);
    expect(log().slice(from)).not.toMatch(/\(v2pass\) Entering BACKUP STATE/);
  });

  it('keepalived yields to our higher priority v2 PASS advert, and takes over in skew time when we send priority 0', async () => {
    let at = log().length;
    send4(v2pass(200));
    at = await waitForLog(/\(v2pass\) Master received advert from 10\.202\.0\.2 with higher priority 200, ours 100/, at, 3000);
    at = await waitForLog(/\(v2pass\) Entering BACKUP STATE/, at, 3000);
    const sent = Date.now();
    send4(v2pass(0));
    await waitForLog(/\(v2pass\) Backup received priority 0 advertisement/, at, 3000);
    await waitForLog(/\(v2pass\) Entering MASTER STATE/, at, 3000);
    // Skew time for priority 100 is 0.61 s; without our priority 0 it would be 3.61 s.
    expect(Date.now() - sent).toBeLessThan(2000);
  });

  it('keepalived yields to our higher priority VRRPv3 advert over IPv4', async () => {
    const at = log().length;
    send4(v3ipv4(150));
    await waitForLog(/\(v3ipv4\) Master received advert from 10\.202\.0\.2 with higher priority 150, ours 100/, at, 3000);
    await waitForLog(/\(v3ipv4\) Entering BACKUP STATE/, at, 3000);
  });

  it('keepalived yields to our higher priority VRRPv3 advert over IPv6', async () => {
    const at = log().length;
    send6(v3ipv6(150));
    await waitForLog(/\(v3ipv6\) Master received advert from fe80::2 with higher priority 150, ours 100/, at, 3000);
    await waitForLog(/\(v3ipv6\) Entering BACKUP STATE/, at, 3000);
  });
});
