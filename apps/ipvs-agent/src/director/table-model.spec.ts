import { ipvsDestination, ipvsService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { sameDestination, sameService } from './table-model.js';

// Every leaf of a value changed on its own: the comparators must notice each one.
function variants(value: unknown, path = ''): { path: string; value: unknown }[] {
  if (typeof value === 'number') return [{ path, value: value + 1 }];
  if (typeof value === 'boolean') return [{ path, value: !value }];
  if (typeof value === 'string') return [{ path, value: `${value}x` }];
  if (Array.isArray(value)) return [{ path, value: value.length > 0 ? [] : ['csum'] }];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      variants(v, `${path}.${k}`).map((x) => ({ path: x.path, value: { ...value, [k]: x.value } })),
    );
  }
  throw new Error(`no variant for ${path}`);
}

describe('sameDestination / sameService', () => {
  const dest = ipvsDestination.parse({ address: '10.0.1.1', port: 80, forward: 'tunnel', weight: 3, upperThreshold: 10, lowerThreshold: 2, tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['remcsum'] });
  const services = [
    ipvsService.parse({
      key: { kind: 'addr', protocol: 'tcp', address: '10.0.0.1', port: 80 },
      scheduler: 'sh',
      flags: { onePacket: true, shFallback: true, shPort: false, mhFallback: false, mhPort: true },
      persistence: 300,
      persistencePrefix: 24,
      persistenceEngine: 'sip',
    }),
    ipvsService.parse({ key: { kind: 'fwmark', fwmark: 7, family: 'inet6' }, scheduler: 'wrr', persistence: 60, persistencePrefix: 64, persistenceEngine: 'sip' }),
  ];

  it('a destination differs in every single field, and equals a copy of itself', () => {
    expect(sameDestination(dest, structuredClone(dest))).toBe(true);
    const changed = variants(dest);
    expect(changed.map((c) => c.path)).toEqual(Object.keys(dest).map((k) => `.${k}`));
    for (const c of changed) expect({ path: c.path, same: sameDestination(dest, c.value as typeof dest) }).toEqual({ path: c.path, same: false });
  });

  it('a service differs in every setting and key field, ignores its destinations, and equals a copy of itself', () => {
    for (const svc of services) {
      expect(sameService(svc, { ...structuredClone(svc), destinations: [dest] })).toBe(true);
      const { destinations: _destinations, ...settings } = svc;
      for (const c of variants(settings)) {
        expect({ path: c.path, same: sameService(svc, { ...(c.value as typeof settings), destinations: [] }) }).toEqual({ path: c.path, same: false });
      }
    }
    // An absent optional setting is not the same as a present one.
    const { persistenceEngine: _engine, ...withoutEngine } = services[0] as (typeof services)[0];
    expect(sameService(services[0] as (typeof services)[0], withoutEngine)).toBe(false);
  });
});
