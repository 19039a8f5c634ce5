import { describe, expect, it } from 'vitest';
import { ipvsService } from './ipvs-table.js';
import { fromIpvsForward, toIpvsDestination, toIpvsForward, toIpvsService, toIpvsServiceKey } from './kernel-mapping.js';
import { virtualService } from './virtual-service.js';

describe('desired -> kernel mapping', () => {
  it('maps forwarding both ways', () => {
    expect(['nat', 'dr', 'tun'].map((f) => toIpvsForward(f as 'nat'))).toEqual(['masq', 'route', 'tunnel']);
    expect(fromIpvsForward('masq')).toBe('nat');
    expect(fromIpvsForward('route')).toBe('dr');
    expect(fromIpvsForward('tunnel')).toBe('tun');
    expect(fromIpvsForward('local')).toBeNull();
  });

  it('builds the kernel service the ipvs-agent programs, and it follows the table schema', () => {
    const vs = virtualService.parse({
      kind: 'virtual-service',
      id: 'web',
      match: { kind: 'address', protocol: 'udp', address: '10.0.0.10', port: 5060 },
      scheduler: 'sh',
      schedulerFlags: ['sh-port'],
      onePacket: true,
      persistenceTimeout: 50,
      persistencePrefix: 24,
      persistenceEngine: 'sip',
      forwarding: 'dr',
      tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' },
      realServers: [
        { address: '10.0.1.1', port: 5060, weight: 3, upperThreshold: 100, lowerThreshold: 50 },
        { address: '10.0.1.2', port: 5060, forwarding: 'tun' },
      ],
    });
    const dests = vs.realServers.map((rs) => toIpvsDestination(vs, rs, rs.weight));
    const svc = toIpvsService(vs, dests);
    expect(ipvsService.parse(svc)).toEqual(svc);
    expect(svc).toEqual({
      key: { kind: 'addr', protocol: 'udp', address: '10.0.0.10', port: 5060 },
      scheduler: 'sh',
      flags: { onePacket: true, shFallback: false, shPort: true, mhFallback: false, mhPort: false },
      persistence: 50,
      persistencePrefix: 24,
      persistenceEngine: 'sip',
      destinations: [
        {
          address: '10.0.1.1',
          port: 5060,
          forward: 'route',
          weight: 3,
          upperThreshold: 100,
          lowerThreshold: 50,
          tunnelType: 'ipip',
          tunnelPort: 0,
          tunnelFlags: [],
        },
        {
          address: '10.0.1.2',
          port: 5060,
          forward: 'tunnel',
          weight: 1,
          upperThreshold: 0,
          lowerThreshold: 0,
          tunnelType: 'gue',
          tunnelPort: 6080,
          tunnelFlags: ['remcsum'],
        },
      ],
    });
  });

  it('maps firewall-mark services and leaves out absent persistence', () => {
    const vs = virtualService.parse({ kind: 'virtual-service', id: 'fw', match: { kind: 'fwmark', fwmark: 81 } });
    expect(toIpvsServiceKey(vs.match)).toEqual({ kind: 'fwmark', fwmark: 81, family: 'inet' });
    const svc = toIpvsService(vs, []);
    expect(svc.persistence).toBe(0);
    expect('persistencePrefix' in svc).toBe(false);
  });
});
