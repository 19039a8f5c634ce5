import { describe, expect, it } from 'vitest';
import { checkAdvert } from './check.js';
import type { AdvertExpectation } from './check.js';
import { passwordAuth } from './packet.js';
import type { VrrpAdvert } from './packet.js';

describe('checkAdvert: the instance-specific receive rules (keepalived vrrp_check_packet)', () => {
  const v2: AdvertExpectation = {
    family: 'ipv4',
    version: 2,
    vrid: 51,
    intervalMs: 1000,
    auth: passwordAuth('s3cr3t'),
    addresses: ['10.201.0.100', '10.201.0.101'],
  };
  const good: VrrpAdvert = {
    version: 2,
    vrid: 51,
    priority: 150,
    intervalMs: 1000,
    addresses: ['10.201.0.101', '10.201.0.100'],
    auth: passwordAuth('s3cr3t'),
  };
  const cases: [string, Partial<VrrpAdvert>, Partial<AdvertExpectation>, string | null][] = [
    ['matching advert (address order does not matter)', {}, {}, null],
    ['another VRID', { vrid: 52 }, {}, 'vrid'],
    ['VRRPv3 advert to a v2 instance', { version: 3, auth: undefined }, {}, 'version'],
    ['no auth to a PASS instance', { auth: { type: 'none' } }, {}, 'auth-type'],
    ['PASS to an instance without auth', {}, { auth: undefined }, 'auth-type'],
    ['wrong password', { auth: passwordAuth('s3cr3') }, {}, 'auth'],
    ['password with a different tail byte', { auth: passwordAuth('s3cr3t!') }, {}, 'auth'],
    ['v2 interval 2 s to a 1 s instance (RFC 3768 7.1: MUST discard)', { intervalMs: 2000 }, {}, 'interval'],
    ['fewer addresses', { addresses: ['10.201.0.100'] }, {}, 'addr-count'],
    ['a configured address missing', { addresses: ['10.201.0.100', '10.201.0.102'] }, {}, 'addr-list'],
    ['any address list when the instance does not check', { addresses: ['10.9.9.9'] }, { addresses: undefined }, null],
  ];
  for (const [what, advertPatch, expectPatch, reason] of cases) {
    it(`${what} -> ${reason ?? 'ok'}`, () => {
      const r = checkAdvert({ ...good, ...advertPatch }, { ...v2, ...expectPatch });
      if (reason === null) expect(r).toEqual({ ok: true });
      else expect(r).toMatchObject({ ok: false, reason });
    });
  }

  it('v3: the interval may differ (a backup learns the master\'s), IPv6 addresses compare canonically', () => {
    const v3: AdvertExpectation = { family: 'ipv6', version: 3, vrid: 71, intervalMs: 1000, addresses: ['FD00:201:0::100'] };
    expect(checkAdvert({ version: 3, vrid: 71, priority: 120, intervalMs: 100, addresses: ['fd00:201::100'] }, v3)).toEqual({ ok: true });
  });
});
