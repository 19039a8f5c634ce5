import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VrrpLan, keepalivedConf, sleep } from './testing/index.js';
import type { AgentInstance, KeepalivedProcess, LogLine, NsProcess } from './testing/index.js';

// VRRPv3 over IPv6 between network namespaces made here: two routers and a client on a bridge,
// adverts from the routers' link-local addresses to ff02::12, the VIP moved by unsolicited
// neighbour advertisements (the client's neighbour entry follows without a flush), and the same
// against Debian's keepalived.

const lan = new VrrpLan(`fv6-${process.pid % 100_000}`, 235, 2);
// Above the rest of a busy CI machine (see failover.int.spec.ts).
lan.nice = -10;
const VIP = lan.vip6();
const STARTUP_MS = 40_000;

const transition = (to: string) => (l: LogLine) => l.msg === 'vrrp transition' && l.instance === 'v6' && l.to === to;
const v3 = (priorities: Record<string, number>): AgentInstance => ({
  id: 'v6',
  version: 3,
  virtualRouterId: 61,
  priorities,
  advertInterval: 0.5,
  virtualAddresses: [{ address: VIP }],
});

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms; client: ${lan.clientNeighbour6(VIP)}; r1 VIP ${lan.hasVip(1, VIP)}, r2 VIP ${lan.hasVip(2, VIP)}`);
    await sleep(20);
  }
}
const vipOnlyOn = (i: 1 | 2) => () => lan.hasVip(i, VIP) && !lan.hasVip(i === 1 ? 2 : 1, VIP);

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('vrrp-agent int specs need root (network namespaces, raw sockets)');
  await lan.create({ ipv6: true });
});
afterAll(async () => {
  await lan.destroy();
});

describe('vrrp-agent, VRRPv3 over IPv6', () => {
  it('elects over ff02::12, and a failover moves the client neighbour entry of the VIP by unsolicited NA, both ways', async () => {
    const a1 = lan.startAgent(1, [v3({ r1: 100, r2: 200 })]);
    let a2: NsProcess = lan.startAgent(2, [v3({ r1: 100, r2: 200 })]);
    try {
      await a2.waitFor(transition('master'), STARTUP_MS);
      await a1.waitFor(transition('backup'), STARTUP_MS, a1.lines.findIndex(transition('master')) + 1);
      await waitUntil('VIP only on r2', vipOnlyOn(2), 5000);
      await waitUntil('r1 hears r2', () => lan.advertsReceived(1, 'v6') >= 2, STARTUP_MS);

      lan.touch6(VIP);
      await waitUntil('client resolves the VIP to r2', () => lan.clientNeighbour6(VIP).includes(lan.mac(2)), 5000);

      const at1 = a1.lines.length;
      const r2LinkLocal = lan.linkLocal(2);
      await a2.stop('SIGTERM');
      const took = await a1.waitFor(transition('master'), 5000, at1);
      // r2's adverts came from its link-local address (RFC 5798 5.1.2.1).
      expect(String(took.reason)).toContain(`master ${r2LinkLocal} `);
      await waitUntil('VIP only on r1', vipOnlyOn(1), 5000);
      // No flush and no traffic from the client: r1's advertisement alone moves the entry.
      await waitUntil('client entry moves to r1', () => lan.clientNeighbour6(VIP).includes(lan.mac(1)), 5000);

      const at1b = a1.lines.length;
      a2 = lan.startAgent(2, [v3({ r1: 100, r2: 200 })]);
      await a2.waitFor(transition('master'), STARTUP_MS);
      await a1.waitFor(transition('backup'), 10_000, at1b);
      await waitUntil('VIP back only on r2', vipOnlyOn(2), 5000);
      await waitUntil('client entry back to r2', () => lan.clientNeighbour6(VIP).includes(lan.mac(2)), 5000);
    } catch (err) {
      throw new Error(`${String(err)}\nr1:\n${a1.output.slice(-2500)}\nr2:\n${a2.output.slice(-2500)}`);
    } finally {
      await a1.stop('SIGTERM');
      await a2.stop('SIGTERM');
    }
  });

  it('interoperates with keepalived: Fulcrum backup takes over when keepalived crashes and yields when it returns; keepalived stays backup to a Fulcrum master', async () => {
    const conf = (priority: number) => keepalivedConf({ name: 'v6', vrid: 61, priority, version: 3, advertInterval: 0.5, vip: VIP });
    let ka: KeepalivedProcess = lan.startKeepalived(1, conf(200));
    await ka.waitForLog(/\(v6\) Entering MASTER STATE/, STARTUP_MS);
    const us = lan.startAgent(2, [v3({ r1: 200, r2: 100 })]);
    try {
      await us.waitFor(transition('backup'), STARTUP_MS);
      await waitUntil('Fulcrum hears keepalived', () => lan.advertsReceived(2, 'v6') >= 2, STARTUP_MS);
      expect(us.lines.some(transition('master'))).toBe(false);
      expect(lan.hasVip(2, VIP)).toBe(false);

      const before = us.lines.length;
      const crashed = Date.now();
      ka.kill9();
      lan.linkDown(1);
      const took = await us.waitFor(transition('master'), 10_000, before);
      expect(String(took.reason)).toMatch(/no advert from master fe80::/);
      expect(Date.parse(String(took.time)) - crashed).toBeGreaterThanOrEqual(1000);
      await waitUntil('VIP on Fulcrum', () => lan.hasVip(2, VIP), 5000);

      await ka.stop('SIGKILL');
      lan.linkUp(1);
      lan.exec(1, `ip -6 addr del ${VIP}/128 dev eth0 2>/dev/null || true`);
      // The link-local address comes back with the link; keepalived needs it to send.
      await waitUntil('r1 link-local back', () => /fe80/.test(lan.exec(1, 'ip -6 addr show dev eth0 scope link')), 10_000);
      const at = us.lines.length;
      ka = lan.startKeepalived(1, conf(200));
      await ka.waitForLog(/\(v6\) Entering MASTER STATE/, STARTUP_MS);
      await us.waitFor(transition('backup'), 10_000, at);
      await waitUntil('VIP back on keepalived only', vipOnlyOn(1), 10_000);
    } catch (err) {
      throw new Error(`${String(err)}\nvrrp-agent:\n${us.output.slice(-3000)}\nkeepalived:\n${ka.log().slice(-2000)}`);
    } finally {
      await us.stop('SIGTERM');
      await ka.stop('SIGTERM');
      lan.linkUp(1);
    }

    // The reverse: keepalived as the backup of a Fulcrum master accepts our IPv6 adverts.
    lan.exec(1, `ip -6 addr del ${VIP}/128 dev eth0 2>/dev/null || true`);
    const master = lan.startAgent(2, [v3({ r1: 100, r2: 200 })]);
    await master.waitFor(transition('master'), STARTUP_MS);
    const backup = lan.startKeepalived(1, conf(100));
    try {
      const from = await backup.waitForLog(/\(v6\) Entering BACKUP STATE/, STARTUP_MS);
      // Several master-down intervals of keepalived (3 x 0.5 s + skew) without a takeover.
      await sleep(4000);
      expect(backup.log().slice(from)).not.toMatch(/Entering MASTER STATE/);
      expect(lan.hasVip(1, VIP)).toBe(false);
      expect(lan.hasVip(2, VIP)).toBe(true);
    } catch (err) {
      throw new Error(`${String(err)}\nvrrp-agent:\n${master.output.slice(-3000)}\nkeepalived:\n${backup.log().slice(-2000)}`);
    } finally {
      await master.stop('SIGTERM');
      await backup.stop('SIGTERM');
    }
  });
});
