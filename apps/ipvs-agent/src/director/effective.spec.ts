import type { VirtualService } from '@fulcrum/schemas';
import { virtualService } from '@fulcrum/schemas';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { Overlays } from './effective.js';
import { effectiveDestinations, effectiveTable, noOverlays, quorumUp, realServerKey } from './effective.js';

const vs = (over: Partial<z.input<typeof virtualService>> = {}): VirtualService =>
  virtualService.parse({
    kind: 'virtual-service',
    id: 'web',
    match: { kind: 'address', protocol: 'tcp', address: '10.0.0.1', port: 80 },
    scheduler: 'wrr',
    forwarding: 'dr',
    realServers: [
      { address: '10.0.1.1', port: 80, weight: 3 },
      { address: '10.0.1.2', port: 80, weight: 1 },
    ],
    ...over,
  });

const overlays = (o: Partial<Overlays> = {}): Overlays => ({ ...noOverlays(), ...o });
const weights = (r: { destinations: { address: string; weight: number }[] }) => Object.fromEntries(r.destinations.map((d) => [d.address, d.weight]));
const rs1 = realServerKey('web', '10.0.1.1', 80);
const rs2 = realServerKey('web', '10.0.1.2', 80);

describe('effectiveDestinations', () => {
  it.each([
    ['no overlay: configured weights', {}, {}, { '10.0.1.1': 3, '10.0.1.2': 1 }],
    ['health up with a dynamic weight', {}, { health: new Map([[rs1, { state: 'up' as const, weight: 7 }]]) }, { '10.0.1.1': 7, '10.0.1.2': 1 }],
    ['down, no inhibit: removed', {}, { health: new Map([[rs1, { state: 'down' as const }]]) }, { '10.0.1.2': 1 }],
    ['down with inhibitOnFailure: weight 0', { inhibitOnFailure: true }, { health: new Map([[rs1, { state: 'down' as const }]]) }, { '10.0.1.1': 0, '10.0.1.2': 1 }],
    ['drained: weight 0, kept', {}, { drained: new Set([rs2]) }, { '10.0.1.1': 3, '10.0.1.2': 0 }],
    ['replication lag: weight 0', {}, { lagging: new Set([rs1]) }, { '10.0.1.1': 0, '10.0.1.2': 1 }],
    ['drain beats a health weight', {}, { drained: new Set([rs1]), health: new Map([[rs1, { state: 'up' as const, weight: 9 }]]) }, { '10.0.1.1': 0, '10.0.1.2': 1 }],
  ])('%s', (_name, vsOver, o, expected) => {
    expect(weights(effectiveDestinations(vs(vsOver), overlays(o), undefined))).toEqual(expected);
  });

  it('with alpha, a checked server is down until its first report', () => {
    const v = vs({ alpha: true, healthChecks: [{ type: 'tcp' }] });
    expect(weights(effectiveDestinations(v, overlays(), undefined))).toEqual({});
    const up = overlays({ health: new Map([[rs1, { state: 'up' }]]) });
    expect(weights(effectiveDestinations(v, up, undefined))).toEqual({ '10.0.1.1': 3 });
  });

  it('below quorum only the sorry server serves; above it the sorry server goes (or stays at 0 when inhibited)', () => {
    const v = vs({ quorum: 3, hysteresis: 1, sorryServer: { address: '10.0.9.9', port: 80 } });
    const bothDown = overlays({ health: new Map([[rs1, { state: 'down' }], [rs2, { state: 'down' }]]) });
    const r = effectiveDestinations(v, bothDown, true);
    expect(r.quorum).toBe(false);
    expect(weights(r)).toEqual({ '10.0.9.9': 1 });
    expect(weights(effectiveDestinations(v, overlays(), false))).toEqual({ '10.0.1.1': 3, '10.0.1.2': 1 });
    const inhibited = vs({ quorum: 3, hysteresis: 1, sorryServer: { address: '10.0.9.9', port: 80, inhibit: true } });
    expect(weights(effectiveDestinations(inhibited, overlays(), false))).toEqual({ '10.0.1.1': 3, '10.0.1.2': 1, '10.0.9.9': 0 });
  });
});

describe('quorumUp (keepalived hysteresis)', () => {
  const q = { quorum: 5, hysteresis: 2 };
  it.each([
    [5, undefined, true],
    [4, undefined, false],
    [3, true, true], // up: lost only below 5 - 2
    [2, true, false],
    [6, false, false], // down: back only at 5 + 2
    [7, false, true],
  ])('live weight %i, previously %s -> %s', (live, prev, up) => {
    expect(quorumUp(live, q, prev)).toBe(up);
  });

  it('the quorum state is carried across passes by effectiveTable', () => {
    const v = vs({ quorum: 3, hysteresis: 1, sorryServer: { address: '10.0.9.9', port: 80 } });
    // rs1 down: live weight 1 < 3 - 1: lost.
    const down = effectiveTable([v], overlays({ health: new Map([[rs1, { state: 'down' }]]) }));
    expect(down.quorum.get('web')).toBe(false);
    // rs1 back at weight 3 only: 3 + 0... with rs2 drained the live weight is 3 < 3 + 1: still lost.
    const stillDown = effectiveTable([v], overlays({ drained: new Set([rs2]) }), down.quorum);
    expect(stillDown.quorum.get('web')).toBe(false);
    expect([...(stillDown.table.values().next().value?.dests.keys() ?? [])]).toEqual(['10.0.9.9|80']);
  });
});

describe('effectiveTable', () => {
  it('canonical addresses and kernel forwarding names; a second service with the same key is refused', () => {
    const a = vs({ match: { kind: 'address', protocol: 'tcp', address: '2001:db8:0::1', port: 80 }, realServers: [{ address: '2001:db8::0:10', port: 80 }] });
    const b = vs({ id: 'web2', match: { kind: 'address', protocol: 'tcp', address: '2001:db8::1', port: 80 }, realServers: [] });
    const r = effectiveTable([b, a], noOverlays());
    expect(r.conflicts).toEqual([{ virtualService: 'web2', sameKeyAs: 'web' }]);
    const svc = r.table.get('tcp|2001:db8::1|80');
    expect(svc?.service.scheduler).toBe('wrr');
    expect([...(svc?.dests.values() ?? [])].map((d) => [d.address, d.forward, d.weight])).toEqual([['2001:db8::10', 'route', 1]]);
  });
});
