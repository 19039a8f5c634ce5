import { virtualService, vrrpInstance } from '@fulcrum/schemas';
import type { VirtualService, VrrpInstance } from '@fulcrum/schemas';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { node, segment } from '../testing/in-memory.js';
import type { Node } from '../testing/in-memory.js';
import type { DataPlane } from './data-plane.js';

// The startup hold on an in-memory segment with fake timers: r1 (priority 100) is master when r2
// (priority 200, preempting) starts; r2's IPVS table is a double whose answer the spec sets.

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

const web = virtualService.parse({
  kind: 'virtual-service',
  id: 'web',
  match: { kind: 'address', protocol: 'tcp', address: '10.9.0.100', port: 80 },
  realServers: [{ address: '10.0.0.1', port: 80 }],
}) as VirtualService;

/** A table that holds the services whose ids are in `held`; `null` answers "no IPVS here". */
function table(held: Set<string> | null): DataPlane & { asked: number } {
  const t = {
    asked: 0,
    missing(services: readonly VirtualService[]): Promise<string[] | null> {
      t.asked += 1;
      return Promise.resolve(held === null ? null : services.filter((s) => !held.has(s.id)).map((s) => s.id));
    },
  };
  return t;
}

const hasVip = async (n: Node) => (await n.addresses.addresses('eth0')).some((a) => a.address === '10.9.0.100');
const run = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('the startup hold: a starting director claims no VIP before its IPVS table carries it', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function start(dp: DataPlane, services: VirtualService[] = [web], holdMs = 30_000) {
    const seg = segment();
    const r1 = await node(seg, 'r1', '10.9.0.11');
    r1.agent.setVirtualServices(services);
    await r1.agent.apply([instance()]);
    await run(1000);
    expect(r1.agent.status()[0]?.state).toBe('master');
    const r2 = await node(seg, 'r2', '10.9.0.12', ['eth0'], { dataPlane: { table: dp, holdMs, pollMs: 250 } });
    r2.agent.setVirtualServices(services);
    await r2.agent.apply([instance()]);
    return { r1, r2, stop: () => Promise.all([r1.agent.stop('spec'), r2.agent.stop('spec')]) };
  }

  it('holds the higher-priority director in fault until its table has the service, then it preempts', async () => {
    const held = new Set<string>();
    const { r1, r2, stop } = await start(table(held));
    await run(3000);
    expect(r2.agent.status()[0]?.state).toBe('fault');
    expect(r2.events.at(-1)?.reason).toMatch(/waiting until this host's IPVS table holds tcp\|10\.9\.0\.100\|80/);
    expect(r1.agent.status()[0]?.state).toBe('master');
    expect(await hasVip(r1)).toBe(true);
    expect(await hasVip(r2)).toBe(false);

    held.add('web');
    await run(2000);
    expect(r2.agent.status()[0]?.state).toBe('master');
    expect(r1.agent.status()[0]?.state).toBe('backup');
    expect(await hasVip(r2)).toBe(true);
    expect(r2.events.map((e) => e.state)).toEqual(['fault', 'backup', 'master']);
    await stop();
  });

  it('takes part anyway when the hold runs out, saying what the table lacks', async () => {
    const { r2, stop } = await start(table(new Set()), [web], 5000);
    await run(4000);
    expect(r2.agent.status()[0]?.state).toBe('fault');
    await run(3000);
    expect(r2.agent.status()[0]?.state).toBe('master');
    expect(r2.events.find((e) => e.state === 'backup')?.reason).toMatch(/still lacks web after 5 s/);
    await stop();
  });

  it('does not hold an instance whose VIPs carry no virtual service, nor on a host without IPVS', async () => {
    const other = virtualService.parse({ ...web, id: 'other', match: { kind: 'address', protocol: 'tcp', address: '10.9.0.200', port: 80 } }) as VirtualService;
    const noService = await start(table(new Set()), [other]);
    await run(2000);
    expect(noService.r2.agent.status()[0]?.state).toBe('master');
    expect(noService.r2.events.map((e) => e.state)).not.toContain('fault');
    await noService.stop();

    const noIpvs = await start(table(null));
    await run(2000);
    expect(noIpvs.r2.agent.status()[0]?.state).toBe('master');
    await noIpvs.stop();
  });

  it('holds only at startup: an instance changed later restarts at once, whatever the table says', async () => {
    const held = new Set(['web']);
    const dp = table(held);
    const { r2, stop } = await start(dp);
    await run(2000);
    expect(r2.agent.status()[0]?.state).toBe('master');
    held.clear();
    const asked = dp.asked;
    await r2.agent.apply([instance({ advertInterval: 0.2 })]);
    await run(3000);
    expect(r2.agent.status()[0]?.state).toBe('master');
    expect(dp.asked).toBe(asked);
    await stop();
  });
});
