import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VrrpLan, keepalivedConf, sleep } from './testing/index.js';
import type { AgentInstance, KeepalivedProcess, LogLine } from './testing/index.js';

// Interop with Debian's keepalived (2.2.7, VRRP only) on a bridge between network namespaces made
// here: keepalived on r1, vrrp-agent on r2, a client. Each side takes over when the other crashes
// (SIGKILL plus its link down) and yields back when the other returns with a higher priority.

const lan = new VrrpLan(`fvk-${process.pid % 100_000}`, 233, 2);
// Both routers run above the rest of a busy CI machine: at 0.1 s adverts a peer that waits 0.36 s
// for the CPU is, rightly, declared dead.
lan.nice = -10;
const VIP = lan.vip();
const STARTUP_MS = 40_000;
const PASSWORD = 'fulcrum1';

const transition = (to: string) => (l: LogLine) => l.msg === 'vrrp transition' && l.instance === 'vi-1' && l.to === to;

interface Case {
  title: string;
  version: 2 | 3;
  interval: number;
  password?: string;
}
const CASES: Case[] = [
  { title: 'VRRPv2 with PASS auth, 1 s adverts', version: 2, interval: 1, password: PASSWORD },
  { title: 'VRRPv3, 0.1 s adverts', version: 3, interval: 0.1 },
];

function ours(c: Case, prio: { r1: number; r2: number }): AgentInstance {
  return {
    id: 'vi-1',
    version: c.version,
    virtualRouterId: 41,
    priorities: prio,
    advertInterval: c.interval,
    virtualAddresses: [{ address: VIP }],
    ...(c.password ? { authentication: { type: 'pass' as const, password: c.password } } : {}),
  };
}
const theirs = (c: Case, priority: number) =>
  keepalivedConf({ name: 'vi1', vrid: 41, priority, version: c.version, advertInterval: c.interval, vip: VIP, ...(c.password ? { password: c.password } : {}) });

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms; r1: ${lan.addresses(1)} r2: ${lan.addresses(2)}`);
    await sleep(10);
  }
}

/** Master down interval of the backup plus room for a busy machine. */
const downMs = (c: Case, prio: number) => 3 * c.interval * 1000 + ((256 - prio) / 256) * (c.version === 2 ? 1000 : c.interval * 1000) + 3000;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('keepalived interop needs root (network namespaces, raw sockets)');
  await lan.create();
});
afterAll(async () => {
  await lan.destroy();
});

describe.each(CASES)('interop with keepalived: $title', (c) => {
  it('keepalived master, Fulcrum backup: Fulcrum takes over when keepalived crashes, and yields when it returns', async () => {
    const prio = { r1: 200, r2: 100 };
    let ka: KeepalivedProcess = lan.startKeepalived(1, theirs(c, prio.r1));
    await ka.waitForLog(/\(vi1\) Entering MASTER STATE/, STARTUP_MS);
    const us = lan.startAgent(2, [ours(c, prio)]);
    try {
      await us.waitFor(transition('backup'), STARTUP_MS);
      await waitUntil('VIP only on keepalived', () => lan.hasVip(1) && !lan.hasVip(2), 10_000);
      const at = us.lines.length;
      // It must have heard keepalived before the crash, or the crash proves nothing.
      await waitUntil('Fulcrum hears keepalived', () => lan.advertsReceived(2, 'vi-1') >= 2, STARTUP_MS);
      await sleep(500);
      expect(us.lines.slice(at).some(transition('master'))).toBe(false);

      const before = us.lines.length;
      const crashed = Date.now();
      ka.kill9();
      lan.linkDown(1);
      const took = await us.waitFor(transition('master'), downMs(c, prio.r2), before);
      // It took over because the adverts stopped (not on a priority 0), and only after they did:
      // the agent's own clock stamps the transition, however long the `ip` above took.
      expect(String(took.reason)).toMatch(/no advert from master 10\.233\.0\.11/);
      expect(Date.parse(String(took.time)) - crashed).toBeGreaterThanOrEqual(2 * c.interval * 1000);
      await waitUntil('VIP on Fulcrum', () => lan.hasVip(2), 5000);

      await ka.stop('SIGKILL');
      lan.linkUp(1);
      // A fresh keepalived (its address is gone with the crash of the old one's link).
      sh1(`ip addr del ${VIP}/32 dev eth0`);
      const at2 = us.lines.length;
      ka = lan.startKeepalived(1, theirs(c, prio.r1));
      await ka.waitForLog(/\(vi1\) Entering MASTER STATE/, STARTUP_MS);
      await us.waitFor(transition('backup'), 10_000, at2);
      await waitUntil('VIP back on keepalived only', () => lan.hasVip(1) && !lan.hasVip(2), 10_000);
    } catch (err) {
      throw new Error(`${String(err)}\nvrrp-agent:\n${us.output.slice(-3000)}\nkeepalived:\n${ka.log().slice(-2000)}`);
    } finally {
      await us.stop('SIGTERM');
      await ka.stop('SIGTERM');
      lan.linkUp(1); // for the next case, whatever failed here
    }
  });

  it('Fulcrum master, keepalived backup: keepalived takes over when Fulcrum crashes, and yields when it returns', async () => {
    const prio = { r1: 100, r2: 200 };
    let us = lan.startAgent(2, [ours(c, prio)]);
    await us.waitFor(transition('master'), STARTUP_MS);
    const ka = lan.startKeepalived(1, theirs(c, prio.r1));
    try {
      let from = await ka.waitForLog(/\(vi1\) Entering BACKUP STATE/, STARTUP_MS);
      await waitUntil('VIP only on Fulcrum', () => lan.hasVip(2) && !lan.hasVip(1), 10_000);
      await sleep(500);
      expect(ka.log().slice(from)).not.toMatch(/Entering MASTER STATE/);

      await us.stop('SIGKILL');
      lan.linkDown(2);
      from = await ka.waitForLog(/\(vi1\) Entering MASTER STATE/, downMs(c, prio.r1), from);
      await waitUntil('VIP on keepalived', () => lan.hasVip(1), 5000);

      lan.linkUp(2);
      us = lan.startAgent(2, [ours(c, prio)]);
      await us.waitFor(transition('master'), STARTUP_MS);
      await ka.waitForLog(/\(vi1\) Entering BACKUP STATE/, 10_000, from);
      await waitUntil('VIP back on Fulcrum only', () => lan.hasVip(2) && !lan.hasVip(1), 10_000);
    } catch (err) {
      throw new Error(`${String(err)}\nvrrp-agent:\n${us.output.slice(-3000)}\nkeepalived:\n${ka.log().slice(-2000)}`);
    } finally {
      await us.stop('SIGTERM');
      await ka.stop('SIGTERM');
      lan.linkUp(2);
    }
  });
});

function sh1(cmd: string): void {
  try {
    lan.exec(1, cmd);
  } catch {
    // nothing to delete
  }
}
