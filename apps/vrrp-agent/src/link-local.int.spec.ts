import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VrrpLan, sleep } from './testing/index.js';
import type { AgentInstance, LogLine, NsProcess } from './testing/index.js';

// A VRRPv3 IPv6 instance started while its interface has no link-local address yet (issue 6), in
// network namespaces made here: once with IPv6 address generation off (addr_gen_mode none) until
// an fe80:: address is added, once with the link down until it comes up (the kernel makes the
// link-local address then, after duplicate address detection). The agent must wait in fault,
// saying why, and start by itself when the address exists.

const lan = new VrrpLan(`fll-${process.pid % 100_000}`, 237, 2);
lan.nice = -10;
const VIP = lan.vip6();
const STARTUP_MS = 40_000;

const v3 = (priorities: Record<string, number>): AgentInstance => ({
  id: 'v6',
  version: 3,
  virtualRouterId: 62,
  priorities,
  advertInterval: 0.5,
  virtualAddresses: [{ address: VIP }],
});
const transition = (to: string) => (l: LogLine) => l.msg === 'vrrp transition' && l.instance === 'v6' && l.to === to;
const waiting = (l: LogLine) => l.msg === 'VRRP instance waiting for an address to send from' && l.instance === 'v6';
const started = (l: LogLine) => l.msg === 'VRRP instance has an address to send from now; started' && l.instance === 'v6';
const linkLocals = (i: number) => lan.exec(i, 'ip -6 addr show dev eth0 scope link');

/**
 * What a failure needs to be understood from CI's tail of the output: whether the agent still
 * runs, what it counted, the addresses and multicast groups of r1's eth0; the error last.
 */
function explain(err: unknown, a1: NsProcess, others: Record<string, NsProcess> = {}): Error {
  const probe = (what: () => string) => {
    try {
      return what().trim();
    } catch (e) {
      return `(unreadable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
    }
  };
  const state = [
    `r1 agent running: ${a1.running}`,
    `r1 metrics: ${probe(() => lan.metrics(1).split('\n').filter((l) => /^fulcrum_vrrp_(adverts_received|packets_dropped|state)/.test(l)).join('; '))}`,
    `r1 eth0: ${probe(() => lan.exec(1, 'ip -6 -o addr show dev eth0; ip -6 maddr show dev eth0 | tr "\\n" " "'))}`,
    `r2 has the VIP: ${probe(() => String(lan.hasVip(2, VIP)))}`,
  ];
  const logs = [['r1', a1] as const, ...Object.entries(others)].map(([name, p]) => `${name}:\n${p.output.slice(-2500)}`);
  return new Error(`${String(err)}\n${logs.join('\n')}\n${state.join('\n')}\n${String(err)}`);
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('vrrp-agent int specs need root (network namespaces, raw sockets)');
  await lan.create({ ipv6: true });
  // The bed turns duplicate address detection off; r1 gets it back, as on a real host.
  lan.exec(1, 'sysctl -qw net.ipv6.conf.eth0.accept_dad=1');
});
afterAll(async () => {
  await lan.destroy();
});

describe('vrrp-agent, an IPv6 instance before its link-local address exists', () => {
  it('with addr_gen_mode none: waits in fault saying why, and becomes master once an fe80:: address is added', async () => {
    lan.exec(1, 'ip link set dev eth0 addrgenmode none && ip -6 addr flush dev eth0 scope link');
    expect(linkLocals(1)).not.toMatch(/fe80/);
    const a1 = lan.startAgent(1, [v3({ r1: 100 })]);
    try {
      const line = await a1.waitFor(waiting, STARTUP_MS);
      expect(String(line.reason)).toMatch(/interface eth0 has no IPv6 link-local address to send the adverts of v6 from/);
      // Several master-down intervals (3 x 0.5 s + skew): alone on the LAN it would have taken over.
      await sleep(4000);
      expect(a1.running).toBe(true);
      expect(a1.lines.some(transition('master'))).toBe(false);
      expect(lan.hasVip(1, VIP)).toBe(false);

      // With duplicate address detection on, the address is tentative for a second first.
      lan.exec(1, 'ip -6 addr add fe80::1:11/64 dev eth0');
      const master = await a1.waitFor(transition('master'), STARTUP_MS);
      expect(a1.lines.findIndex(started)).toBeGreaterThan(a1.lines.findIndex(waiting));
      expect(master).toMatchObject({ from: 'backup', priority: 100 });
      await waitUntil('VIP on r1', () => lan.hasVip(1, VIP), 10_000);
    } catch (err) {
      throw explain(err, a1);
    } finally {
      await a1.stop('SIGTERM');
      lan.exec(1, 'ip link set dev eth0 addrgenmode eui64; ip -6 addr del fe80::1:11/64 dev eth0 2>/dev/null || true');
    }
    expect(lan.hasVip(1, VIP)).toBe(false);
  });

  it('with the link down: waits in fault while a peer is master, and comes up as its backup when the link does, then takes over when the peer stops', async () => {
    const a2 = lan.startAgent(2, [v3({ r1: 100, r2: 200 })]);
    lan.linkDown(1);
    await waitUntil('r1 link-local gone with its link', () => !/fe80/.test(linkLocals(1)), 10_000);
    const a1 = lan.startAgent(1, [v3({ r1: 100, r2: 200 })]);
    try {
      await a2.waitFor(transition('master'), STARTUP_MS);
      const line = await a1.waitFor(waiting, STARTUP_MS);
      expect(String(line.reason)).toMatch(/no IPv6 link-local address/);
      await sleep(3000);
      expect(a1.lines.some(transition('master')) || a1.lines.some(transition('backup'))).toBe(false);
      expect(lan.hasVip(1, VIP)).toBe(false);

      const before = a1.lines.length;
      lan.linkUp(1);
      const backup = await a1.waitFor(transition('backup'), STARTUP_MS, before);
      // Logged right after the transition, but it may reach us in a later read of the pipe.
      await a1.waitFor(started, 10_000, before);
      expect(backup.from).toBe('initialize');
      await waitUntil('r1 hears r2', () => lan.advertsReceived(1, 'v6') >= 2, STARTUP_MS);
      expect(lan.hasVip(1, VIP)).toBe(false);
      expect(lan.hasVip(2, VIP)).toBe(true);

      // r1 runs for real: it takes over when r2 leaves.
      const at = a1.lines.length;
      await a2.stop('SIGTERM');
      await a1.waitFor(transition('master'), 10_000, at);
      await waitUntil('VIP on r1', () => lan.hasVip(1, VIP), 10_000);
    } catch (err) {
      throw explain(err, a1, { r2: a2 });
    } finally {
      await a1.stop('SIGTERM');
      await a2.stop('SIGTERM');
      lan.linkUp(1);
    }
  });
});
