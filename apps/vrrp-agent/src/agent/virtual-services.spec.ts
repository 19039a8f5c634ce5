import { virtualService } from '@fulcrum/schemas';
import type { VirtualService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { VirtualServiceHealth } from './virtual-services.js';

const health = (virtualService: string, address: string, state: 'up' | 'down', weight?: number) => ({
  virtualService,
  realServer: { address, port: 80 },
  state,
  previous: 'unknown' as const,
  checks: [],
  reason: 'spec',
  ...(weight === undefined ? {} : { weight }),
});

describe('virtual service health for tracking', () => {
  it('is up until reported otherwise, and down when every reported server of an undescribed service is', () => {
    const h = new VirtualServiceHealth();
    expect(h.isUp('web')).toBe(true);
    expect(h.onHealth(health('web', '10.0.0.1', 'down'))).toBe('web');
    expect(h.isUp('web')).toBe(false);
    expect(h.onHealth(health('web', '10.0.0.2', 'down'))).toBeNull();
    expect(h.onHealth(health('web', '10.0.0.2', 'up'))).toBe('web');
  });

  it('follows the quorum of a described service, with weights from the events', () => {
    const vs = virtualService.parse({
      kind: 'virtual-service',
      id: 'web',
      match: { kind: 'address', protocol: 'tcp', address: '10.9.0.100', port: 80 },
      quorum: 3,
      realServers: [
        { address: '10.0.0.1', port: 80, weight: 2 },
        { address: '10.0.0.2', port: 80, weight: 2 },
      ],
    }) as VirtualService;
    const h = new VirtualServiceHealth();
    expect(h.setServices([vs])).toEqual([]);
    expect(h.isUp('web')).toBe(true); // 4 >= 3, nobody reported yet
    expect(h.onHealth(health('web', '10.0.0.1', 'down'))).toBe('web'); // 2 < 3
    expect(h.onHealth(health('web', '10.0.0.2', 'up', 5))).toBe('web'); // dynamic weight 5
    expect(h.setServices([])).toEqual([]); // undescribed: one server up is enough
    expect(h.isUp('web')).toBe(true);
  });
});
