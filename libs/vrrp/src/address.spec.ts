import { describe, expect, it } from 'vitest';
import { canonicalAddress, compareAddressBytes, formatIpv6, parseIpv4, parseIpv6, requireAddress } from './address.js';

describe('addresses', () => {
  it('parses IPv6 in all its spellings and prints it as RFC 5952 says', () => {
    const cases: [string, string][] = [
      ['::', '::'],
      ['::1', '::1'],
      ['FE80::FF:FE00:2001', 'fe80::ff:fe00:2001'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['ff02::12', 'ff02::12'],
      ['::ffff:10.1.2.3', '::ffff:a01:203'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ];
    for (const [input, canonical] of cases) expect(canonicalAddress('ipv6', input)).toBe(canonical);
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:2:3:4:5:6:7:8::', '::10.1.2', 'fe80::1%eth0']) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', ' 1.2.3.4']) expect(parseIpv4(bad), bad).toBeNull();
    expect(() => requireAddress('ipv4', 'fd00::1', 'vip')).toThrow(/^vip: "fd00::1" is not an IPv4 address/);
  });

  it('orders addresses numerically, as the equal-priority tie break needs', () => {
    const v4 = (s: string) => parseIpv4(s) as Uint8Array;
    expect(compareAddressBytes(v4('10.0.0.10'), v4('10.0.0.9'))).toBe(1);
    expect(compareAddressBytes(v4('9.255.255.255'), v4('10.0.0.0'))).toBe(-1);
    expect(compareAddressBytes(v4('10.0.0.1'), v4('10.0.0.1'))).toBe(0);
    const v6 = (s: string) => parseIpv6(s) as Uint8Array;
    expect(compareAddressBytes(v6('fe80::2'), v6('fe80::1:0'))).toBe(-1);
    expect(formatIpv6(v6('fe80::1:0'))).toBe('fe80::1:0');
  });
});
