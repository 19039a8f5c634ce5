import { describe, expect, it } from 'vitest';
import { passwordAuth } from './packet.js';
import { SimulatedLan } from './testing/index.js';
import type { SimRouterSpec } from './testing/index.js';

// Two directors on one segment, stepped tick by tick on a fake clock; adverts go through the codec.
// The takeover times are the ones LAB-NOTES measured between two keepalived 2.2.7 directors.

const v2 = (name: string, priority: number, address: string, extra: Partial<SimRouterSpec> = {}): SimRouterSpec => ({
  name,
  version: 2,
  family: 'ipv4',
  vrid: 51,
  priority,
  advertIntervalMs: 1000,
  primaryAddress: address,
  addresses: ['10.0.0.100'],
  auth: passwordAuth('s3cr3t'),
  ...extra,
});
const v3 = (name: string, priority: number, address: string, extra: Partial<SimRouterSpec> = {}): SimRouterSpec => ({
  name,
  version: 3,
  family: 'ipv4',
  vrid: 61,
  priority,
  advertIntervalMs: 100,
  primaryAddress: address,
  addresses: ['10.0.0.110', '10.0.0.111'],
  ...extra,
});

function pair(a: SimRouterSpec, b: SimRouterSpec, opts: { latencyMs?: number } = {}): SimulatedLan {
  const lan = new SimulatedLan(opts);
  lan.add(a);
  lan.add(b);
  lan.startup(a.name);
  lan.startup(b.name);
  return lan;
}

describe('failover between two directors', () => {
  it('v2, 1 s: the higher priority takes master after Master_Down_Interval, and only one holds the VIP', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1'), v2('d2', 100, '10.0.0.2'));
    // d1's Master_Down_Interval is 3 s + (256-150)/256 s; d2 hears d1's first advert and stays backup.
    expect(lan.advanceUntil(() => lan.masters().length > 0, 10_000)).toBe(3415);
    expect(lan.masters()).toEqual(['d1']);
    lan.advance(30_000);
    expect(lan.masters()).toEqual(['d1']);
    expect(lan.router('d2').sent).toEqual([]);
    expect([...lan.router('d2').drops]).toEqual([]);
  });

  it('v2 graceful stop (SIGTERM): the backup takes over in its skew time, 0.61 s for priority 100', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1'), v2('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    lan.shutdown('d1');
    expect(lan.router('d1').sent.at(-1)?.priority).toBe(0);
    expect(lan.advanceUntil(() => lan.masters().includes('d2'), 5000, 0.5)).toBe(609.5);
  });

  it('v2 crash (no priority 0): the backup takes over 3.61 s after the last advert it heard', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1'), v2('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    const lastAdvert = lan.router('d1').sent.at(-1)?.t as number;
    lan.crash('d1');
    const took = lan.advanceUntil(() => lan.masters().includes('d2'), 10_000);
    expect(Math.abs(lan.clock.now() - (lastAdvert + 3609.375))).toBeLessThan(1); // 1 ms steps
    expect(took).toBeGreaterThan(2600);
    expect(took).toBeLessThan(3700);
  });

  it('v3, 0.1 s: graceful stop hands over in 61 ms, a crash in under 361 ms', () => {
    let lan = pair(v3('d1', 150, '10.0.0.1'), v3('d2', 100, '10.0.0.2'));
    lan.advance(2000);
    expect(lan.masters()).toEqual(['d1']);
    lan.shutdown('d1');
    expect(lan.advanceUntil(() => lan.masters().includes('d2'), 1000, 0.25)).toBe(61);

    lan = pair(v3('d1', 150, '10.0.0.1'), v3('d2', 100, '10.0.0.2'));
    lan.advance(2000);
    lan.crash('d1');
    const took = lan.advanceUntil(() => lan.masters().includes('d2'), 1000, 0.25) as number;
    expect(took).toBeGreaterThan(260);
    expect(took).toBeLessThanOrEqual(361);
  });

  it('a v3 backup with a slower interval learns the master\'s 0.1 s interval and detects its death as fast', () => {
    const lan = pair(v3('d1', 150, '10.0.0.1'), v3('d2', 100, '10.0.0.2', { advertIntervalMs: 1000 }));
    lan.advance(5000);
    expect(lan.router('d2').instance.masterAdverIntervalMs).toBe(100);
    lan.crash('d1');
    expect(lan.advanceUntil(() => lan.masters().includes('d2'), 5000)).toBeLessThanOrEqual(361);
  });

  it('preempt: the higher priority router coming back takes master again', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1'), v2('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    lan.shutdown('d1');
    lan.advance(2000);
    expect(lan.masters()).toEqual(['d2']);
    lan.startup('d1');
    // d1 discards d2's lower adverts, its down timer runs out, it takes over; d2 yields on its first advert.
    const took = lan.advanceUntil(() => lan.masters().join() === 'd1', 10_000) as number;
    expect(took).toBeCloseTo(3415, -1);
  });

  it('nopreempt: the higher priority router coming back leaves the live master alone', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1', { preempt: false }), v2('d2', 100, '10.0.0.2', { preempt: false }));
    lan.advance(5000);
    lan.shutdown('d1');
    lan.advance(2000);
    lan.startup('d1');
    lan.advance(60_000);
    expect(lan.masters()).toEqual(['d2']);
  });

  it('preempt delay: the higher priority router waits the delay before taking over', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1', { preemptDelayMs: 10_000 }), v2('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    lan.shutdown('d1');
    lan.advance(2000);
    lan.startup('d1');
    lan.advance(9000);
    expect(lan.masters()).toEqual(['d2']);
    // The delay runs from d2's first advert (within 1 s of startup), then one Master_Down_Interval.
    const took = lan.advanceUntil(() => lan.masters().join() === 'd1', 10_000) as number;
    expect(9000 + took).toBeGreaterThan(10_000 + 3000);
    expect(9000 + took).toBeLessThan(11_000 + 3415 + 1);
  });

  function splitBrain(d1Extra: Partial<SimRouterSpec> = {}) {
    const lan = pair(v2('d1', 150, '10.0.0.1', d1Extra), v2('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    lan.setLink('d1', false);
    lan.advance(5000);
    expect(lan.masters().sort()).toEqual(['d1', 'd2']);
    lan.setLink('d1', true);
    const d1Next = lan.router('d1').timers.get('adver')?.at as number;
    const d2Next = lan.router('d2').timers.get('adver')?.at as number;
    // d1 adverts at 3414.062 + k s; d2 took over at 4414.062 + 3609.375 ms: d2 speaks first after the link returns.
    expect(d1Next).toBeCloseTo(10_414.062, 6);
    expect(d2Next).toBeCloseTo(10_023.437, 6);
    return { lan, d1Next, d2Next };
  }

  it('split brain: the higher master answers the lower one\'s first advert and the lower one yields at once', () => {
    const { lan, d2Next } = splitBrain();
    lan.advance(d2Next - lan.clock.now());
    expect(lan.masters()).toEqual(['d1']);
    expect(lan.router('d1').sent.at(-1)).toEqual({ t: d2Next, priority: 150 });
  });

  it('split brain with vrrp_lower_prio_no_advert: it lasts until the higher master\'s own next advert', () => {
    const { lan, d1Next, d2Next } = splitBrain({ lowerPrioNoAdvert: true });
    lan.advance(d2Next - lan.clock.now());
    expect(lan.masters().sort()).toEqual(['d1', 'd2']);
    lan.advance(d1Next - lan.clock.now());
    expect(lan.masters()).toEqual(['d1']);
  });

  it('equal priorities: the higher primary address wins', () => {
    const lan = pair(v3('d1', 100, '10.0.0.1'), v3('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    expect(lan.masters()).toEqual(['d2']);
  });

  it('the address owner (255) takes master at once and back from a lower master at once', () => {
    const lan = pair(v2('d1', 255, '10.0.0.1'), v2('d2', 100, '10.0.0.2'));
    expect(lan.masters()).toEqual(['d1']);
    lan.shutdown('d1');
    lan.advance(2000);
    expect(lan.masters()).toEqual(['d2']);
    lan.startup('d1');
    lan.advance(0);
    expect(lan.masters()).toEqual(['d1']);
  });

  it('a tracked failure moves master to the peer in skew time; recovery takes it back (preempt)', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1'), v2('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    lan.step('d1', { type: 'trackFault', source: 'eth1', failed: true, why: 'eth1 link down' });
    expect(lan.router('d1').instance.state).toBe('fault');
    expect(lan.advanceUntil(() => lan.masters().includes('d2'), 5000, 0.5)).toBe(609.5);
    lan.step('d1', { type: 'trackFault', source: 'eth1', failed: false, why: 'eth1 link up' });
    expect(lan.advanceUntil(() => lan.masters().join() === 'd1', 10_000)).toBeLessThanOrEqual(3415);
  });

  it('a tracked script weight that drops the master below its peer moves master over', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1'), v2('d2', 100, '10.0.0.2'));
    lan.advance(5000);
    lan.step('d1', { type: 'priorityChanged', trackedWeight: -60, why: 'check-nginx failed (weight -60)' });
    // d2 now discards d1's priority 90 adverts and takes over after its down interval.
    const took = lan.advanceUntil(() => lan.masters().join() === 'd2', 10_000) as number;
    expect(took).toBeGreaterThan(2600);
    expect(took).toBeLessThanOrEqual(3610);
  });

  it('a peer with another password is not heard: both become master and the drops say why', () => {
    const lan = pair(v2('d1', 150, '10.0.0.1'), v2('d2', 100, '10.0.0.2', { auth: passwordAuth('other') }));
    lan.advance(10_000);
    expect(lan.masters().sort()).toEqual(['d1', 'd2']);
    expect(lan.router('d2').drops.get('auth')).toBeGreaterThan(5);
  });
});
