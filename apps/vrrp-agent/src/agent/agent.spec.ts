import { MessageChannel } from 'node:worker_threads';
import { vrrpInstance } from '@fulcrum/schemas';
import type { VrrpInstance } from '@fulcrum/schemas';
import { encodeIpv4Packet } from '@fulcrum/vrrp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { node, segment } from '../testing/in-memory.js';
import type { Node } from '../testing/in-memory.js';

// The agent on an in-memory segment with fake timers (see testing/in-memory.ts).

const instance = (over: Record<string, unknown> = {}): VrrpInstance =>
  vrrpInstance.parse({
    kind: 'vrrp-instance',
    id: 'vi-1',
    version: 3,
    interface: 'eth0',
    virtualRouterId: 7,
    priorities: { r1: 100, r2: 200 },
    advertInterval: 0.1,
    virtualAddresses: [{ address: '10.9.0.100' }],
    ...over,
  });

const hasVip = async (n: Node, vip = '10.9.0.100') => (await n.addresses.addresses('eth0')).some((a) => a.address === vip);
const run = (ms: number) => vi.advanceTimersByTimeAsync(ms);

async function metric(n: Node, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await n.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values as { labels: Record<string, string>; value: number }[] | undefined)?.find((x) =>
    Object.entries(labels).every(([k, val]) => x.labels[k] === val),
  );
  return v?.value ?? 0;
}

describe('VrrpAgent on an in-memory segment', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a tracked virtual service below quorum lowers the priority: the other router takes over, and gives back on recovery', async () => {
    const seg = segment();
    const r1 = await node(seg, 'r1', '10.9.0.11');
    const r2 = await node(seg, 'r2', '10.9.0.12');
    const tracked = instance({ trackVirtualServices: [{ virtualService: 'web', weight: -150 }] });
    await r1.agent.apply([tracked]);
    await r2.agent.apply([tracked]);
    await run(1000);
    expect(r2.agent.status()[0]).toMatchObject({ state: 'master', priority: 200 });
    expect(r1.agent.status()[0]).toMatchObject({ state: 'backup', master: '10.9.0.12' });
    expect(await hasVip(r2)).toBe(true);
    expect(r2.arps).toEqual(['10.9.0.100', '10.9.0.100', '10.9.0.100']);

    r2.agent.onHealth({ virtualService: 'web', realServer: { address: '10.1.0.1', port: 80 }, state: 'down', previous: 'up', checks: [], reason: 'connect refused' });
    expect(r2.agent.status()[0]?.priority).toBe(50);
    await run(1000);
    expect(r1.agent.status()[0]?.state).toBe('master');
    expect(r2.agent.status()[0]?.state).toBe('backup');
    expect(await hasVip(r1)).toBe(true);
    expect(await hasVip(r2)).toBe(false);
    expect(r2.events.at(-1)).toMatchObject({ instance: 'vi-1', state: 'backup', previous: 'master', priority: 50, reason: expect.stringMatching(/higher priority 100/) });

    r2.agent.onHealth({ virtualService: 'web', realServer: { address: '10.1.0.1', port: 80 }, state: 'up', previous: 'down', checks: [], reason: 'ok' });
    await run(1000);
    expect(r2.agent.status()[0]).toMatchObject({ state: 'master', priority: 200 });
    expect(await hasVip(r1)).toBe(false);
    await r1.agent.stop('spec');
    await r2.agent.stop('spec');
  });

  it('a sync group follows its weakest member: one in fault sends the other to backup, both come back', async () => {
    const seg = segment();
    const r1 = await node(seg, 'r1', '10.9.0.11', ['eth0', 'eth1']);
    await r1.agent.apply([
      instance({ id: 'outside', syncGroup: 'g', priorities: { r1: 100 } }),
      instance({ id: 'inside', virtualRouterId: 8, syncGroup: 'g', priorities: { r1: 100 }, virtualAddresses: [{ address: '10.9.0.101' }], trackInterfaces: [{ interface: 'eth1' }] }),
    ]);
    await run(1000);
    expect(r1.agent.status().map((s) => s.state)).toEqual(['master', 'master']);
    await r1.addresses.linkDown('eth1');
    await run(200);
    expect(r1.agent.status().map((s) => [s.instance, s.state])).toEqual([
      ['outside', 'backup'],
      ['inside', 'fault'],
    ]);
    expect(r1.events.filter((e) => e.instance === 'outside' && e.state === 'backup').at(-1)?.reason).toMatch(/sync group: inside is fault/);
    expect(await hasVip(r1, '10.9.0.100')).toBe(false);
    await r1.addresses.linkUp('eth1');
    await run(1000);
    expect(r1.agent.status().map((s) => s.state)).toEqual(['master', 'master']);
    await r1.agent.stop('spec');
  });

  it('drops and counts garbage, and a graceful stop sends priority 0, removes the VIP and reports stopped', async () => {
    const seg = segment();
    const r1 = await node(seg, 'r1', '10.9.0.11');
    const r2 = await node(seg, 'r2', '10.9.0.12');
    const listener = seg.open('eth0', 'spy');
    await r1.agent.apply([instance()]);
    await r2.agent.apply([instance()]);
    await run(1000);
    for (let k = 0; k < 50; k += 1) listener.send(Buffer.from(Array.from({ length: k }, (_, i) => (i * 37 + k) & 0xff)));
    await run(200);
    const dropped = (await r1.registry.getMetricsAsJSON()).find((m) => m.name === 'fulcrum_vrrp_packets_dropped_total');
    const total = (dropped?.values ?? []).reduce((s, v) => s + v.value, 0);
    expect(total).toBeGreaterThanOrEqual(50);
    expect(await metric(r1, 'fulcrum_vrrp_packets_dropped_total', { reason: 'truncated' })).toBeGreaterThan(0);

    await r2.agent.stop('service stopping');
    expect(r2.events.at(-1)).toMatchObject({ state: 'stopped', previous: 'master', priority: 0 });
    expect(await hasVip(r2)).toBe(false);
    // Priority 0: r1 takes over after its skew time (0.06 s), not the master-down interval (0.36 s).
    await run(150);
    expect(r1.agent.status()[0]?.state).toBe('master');
    expect(await hasVip(r1)).toBe(true);
    await r1.agent.stop('spec');
  });

  it('answers the failover command: a master hands over, a backup or unknown instance is refused', async () => {
    const seg = segment();
    const r1 = await node(seg, 'r1', '10.9.0.11');
    const r2 = await node(seg, 'r2', '10.9.0.12');
    await r1.agent.apply([instance({ preempt: false, priorities: { r1: 100, r2: 100 } })]);
    await r2.agent.apply([instance({ preempt: false, priorities: { r1: 100, r2: 100 } })]);
    await run(1000);
    const master = r1.agent.status()[0]?.state === 'master' ? r1 : r2;
    const backup = master === r1 ? r2 : r1;
    expect(backup.agent.failover('vi-1', 'maintenance')).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(master.agent.failover('nope', undefined)).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(master.agent.failover('vi-1', 'maintenance')).toMatchObject({ ok: true });
    await run(1000);
    expect(backup.agent.status()[0]?.state).toBe('master');
    expect(master.agent.status()[0]?.state).toBe('backup');
    await r1.agent.stop('spec');
    await r2.agent.stop('spec');
  });

  it('refuses what it cannot run, naming why', async () => {
    const r1 = await node(segment(), 'r1', '10.9.0.11');
    const refused = await r1.agent.apply([
      instance({ id: 'other-if', interface: 'eth9', priorities: { r1: 100 } }),
      instance({ id: 'not-here', priorities: { r5: 100 } }),
      instance({ id: 'first', virtualRouterId: 9, priorities: { r1: 100 } }),
      instance({ id: 'same-vrid', virtualRouterId: 9, priorities: { r1: 100 }, virtualAddresses: [{ address: '10.9.0.109' }] }),
    ]);
    expect(refused).toEqual([
      { id: 'other-if', why: 'interface eth9 of other-if does not exist' },
      { id: 'same-vrid', why: 'same-vrid: VRID 9 on eth0 is already used by first' },
    ]);
    await r1.agent.stop('spec');
  });
});

describe('VrrpAgent, an IPv6 instance and its link-local address', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const v6 = (over: Record<string, unknown> = {}) => instance({ id: 'v6', virtualRouterId: 61, virtualAddresses: [{ address: 'fd00::100' }], priorities: { r1: 100 }, ...over });

  it('waits in fault, saying why, while the interface has no link-local address, and starts once it has one', async () => {
    const r1 = await node(segment(), 'r1', '10.9.0.11');
    expect(await r1.agent.apply([v6(), instance({ virtualRouterId: 61 })])).toEqual([]);
    await run(2000);
    expect(r1.agent.status()).toEqual([
      { instance: 'vi-1', state: 'master', priority: 100, master: '10.9.0.11' },
      { instance: 'v6', state: 'fault', priority: 100, master: null },
    ]);
    expect(r1.agent.waitingFor('v6')).toMatch(/interface eth0 has no IPv6 link-local address to send the adverts of v6 from/);
    expect(r1.events.filter((e) => e.instance === 'v6')).toEqual([
      { instance: 'v6', state: 'fault', previous: 'initialize', priority: 100, reason: expect.stringMatching(/no IPv6 link-local address/) },
    ]);
    expect(await metric(r1, 'fulcrum_vrrp_state', { instance: 'v6', state: 'fault' })).toBe(1);
    expect(r1.agent.failover('v6', undefined)).toMatchObject({ ok: false, code: 'CONFLICT', message: expect.stringMatching(/no IPv6 link-local address/) });
    expect(await hasVip(r1, 'fd00::100')).toBe(false);

    // No restart, no new configuration: the address alone starts it.
    await r1.addresses.addAddress('eth0', 'fe80::11', 64);
    await run(2000);
    expect(r1.agent.status()[1]).toEqual({ instance: 'v6', state: 'master', priority: 100, master: 'fe80::11' });
    expect(r1.agent.waitingFor('v6')).toBeNull();
    expect(await hasVip(r1, 'fd00::100')).toBe(true);
    expect(r1.events.filter((e) => e.instance === 'v6').map((e) => e.state)).toEqual(['fault', 'backup', 'master']);
    await r1.agent.stop('spec');
  });

  it('a waiting instance removed from the configuration reports stopped; one that changes waits with its new form', async () => {
    const r1 = await node(segment(), 'r1', '10.9.0.11');
    await r1.agent.apply([v6()]);
    await r1.agent.apply([v6({ advertInterval: 1 })]);
    expect(r1.agent.instances).toEqual(['v6']);
    expect(r1.events.map((e) => [e.state, e.reason])).toEqual([
      ['fault', expect.stringMatching(/link-local/)],
      ['stopped', 'configuration changed'],
      ['fault', expect.stringMatching(/link-local/)],
    ]);
    await r1.agent.apply([]);
    expect(r1.agent.instances).toEqual([]);
    expect(r1.events.at(-1)).toMatchObject({ state: 'stopped', previous: 'fault', reason: 'instance removed from the configuration' });
    await r1.agent.stop('spec');
  });

  it('a running instance whose link-local address goes away goes to fault, and runs again from the new one', async () => {
    const r1 = await node(segment(), 'r1', '10.9.0.11');
    await r1.addresses.addAddress('eth0', 'fe80::11', 64);
    await r1.agent.apply([v6()]);
    await run(2000);
    expect(r1.agent.status()[0]).toMatchObject({ state: 'master', master: 'fe80::11' });

    await r1.addresses.deleteAddress('eth0', 'fe80::11', 64);
    await run(500);
    expect(r1.agent.status()[0]?.state).toBe('fault');
    expect(r1.events.at(-1)).toMatchObject({ state: 'fault', previous: 'master', reason: expect.stringMatching(/fe80::11, the adverts' source, is gone on interface eth0/) });
    expect(await hasVip(r1, 'fd00::100')).toBe(false);

    await r1.addresses.addAddress('eth0', 'fe80::12', 64);
    await run(2000);
    expect(r1.agent.status()[0]).toMatchObject({ state: 'master', master: 'fe80::12' });
    expect(await hasVip(r1, 'fd00::100')).toBe(true);
    await r1.agent.stop('spec');
  });
});

describe('VrrpAgent after a stall of its event loop (real timers)', () => {
  it('an advert that arrived during the stall beats the master-down deadline that passed meanwhile', async () => {
    const seg = segment();
    const r1 = await node(seg, 'r1', '10.9.0.11');
    const master = seg.open('eth0', 'r2');
    const advert = () => master.send(encodeIpv4Packet({ version: 3, vrid: 7, priority: 200, intervalMs: 100, addresses: ['10.9.0.100'] }, { srcAddr: '10.9.0.12' }));
    await r1.agent.apply([instance()]);
    for (let k = 0; k < 5; k += 1) {
      advert();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(r1.agent.status()[0]).toMatchObject({ state: 'backup', master: '10.9.0.12' });

    // The next advert comes through real I/O (a MessagePort, like the socket's completion) and is
    // queued before the loop stalls for longer than the master-down interval (0.36 s).
    const port = new MessageChannel();
    port.port2.on('message', advert);
    port.port1.postMessage('advert');
    const until = performance.now() + 800;
    while (performance.now() < until) {
      // the stall: this process gets no turn of its event loop
    }
    await new Promise((r) => setTimeout(r, 100));
    port.port1.close();
    expect(r1.agent.status()[0]?.state).toBe('backup');
    expect(r1.events.map((e) => e.state)).toEqual(['backup']);

    // Without adverts it does take over: the spec above could fail.
    for (let waited = 0; r1.agent.status()[0]?.state !== 'master' && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(r1.agent.status()[0]?.state).toBe('master');
    await r1.agent.stop('spec');
  });
});
