import { describe, expect, it } from 'vitest';
import { checkContract } from './issues.js';
import { absolutePath, canonicalIp, endpointWithDefaultPort, inPrefixes, interfaceName, ipAddr, ipv4Addr, ipv6Addr, isSlug, positiveSeconds, seconds, slug } from './primitives.js';

describe('IP addresses', () => {
  it('stores IPv6 in canonical form so that two spellings compare equal', () => {
    expect(ipAddr.parse('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(ipAddr.parse('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(ipAddr.parse('::FFFF:C0A8:5096')).toBe('::ffff:192.168.80.150');
    expect(ipAddr.parse('192.168.80.150')).toBe('192.168.80.150');
    expect(canonicalIp('not an address')).toBe('not an address');
  });

  it('says which value is wrong and why', () => {
    expect(checkContract(ipAddr, '192.168.80.256')).toEqual({
      ok: false,
      issues: [{ path: '', message: '"192.168.80.256" is not an IPv4 or IPv6 address' }],
    });
    expect(checkContract(ipAddr, '192.168.080.1').ok).toBe(false);
    expect(checkContract(ipAddr, 'fe80::1%eth0')).toEqual({
      ok: false,
      issues: [{ path: '', message: '"fe80::1%eth0" must not carry a zone id (%...): give the interface in its own field' }],
    });
    expect(checkContract(ipv4Addr, '::1')).toEqual({ ok: false, issues: [{ path: '', message: '"::1" must be an IPv4 address' }] });
    expect(checkContract(ipv6Addr, '10.0.0.1')).toEqual({ ok: false, issues: [{ path: '', message: '"10.0.0.1" must be an IPv6 address' }] });
    expect(checkContract(ipAddr, 17)).toEqual({ ok: false, issues: [{ path: '', message: 'must be text (got number 17)' }] });
  });
});

describe('address prefixes', () => {
  it('finds an address inside a network, host bits of the prefix ignored, families apart', () => {
    expect(inPrefixes('10.99.0.21', ['192.168.1.0/24', '10.99.0.11/24'])).toBe(true);
    expect(inPrefixes('10.99.1.21', ['10.99.0.0/24'])).toBe(false);
    expect(inPrefixes('fd00::21', ['fd00::/64'])).toBe(true);
    expect(inPrefixes('fd01::21', ['fd00::/64', '10.0.0.0/8'])).toBe(false);
    expect(inPrefixes('10.0.0.1', ['::/0'])).toBe(false);
    expect(inPrefixes('10.0.0.1', [])).toBe(false);
  });
});

describe('slugs (object ids and host names)', () => {
  it.each(['web', 'vi-1', 'director1', 'a', 'x'.repeat(63)])('accepts %s', (s) => expect(isSlug(s)).toBe(true));
  it.each(['', 'Web', 'vi_1', 'lvs.master', '-web', 'web-', 'a b', 'x'.repeat(64), 'web>'])('refuses %j', (s) => {
    expect(isSlug(s)).toBe(false);
    const r = checkContract(slug, s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.message).toMatch(/lowercase letters, digits and "-".*no dots/);
  });
});

describe('other primitives', () => {
  it('interface names follow the kernel limit', () => {
    expect(interfaceName.parse('eth0')).toBe('eth0');
    expect(checkContract(interfaceName, 'a-very-long-ifname').ok).toBe(false);
    expect(checkContract(interfaceName, 'eth0:1').ok).toBe(false);
  });

  it('durations have millisecond resolution', () => {
    expect(seconds(0).parse(0.25)).toBe(0.25);
    expect(checkContract(seconds(0), 0.0001)).toEqual({ ok: false, issues: [{ path: '', message: 'has a resolution of 1 ms (at most 3 decimals)' }] });
    expect(checkContract(seconds(1), 0.5)).toEqual({ ok: false, issues: [{ path: '', message: 'must be at least 1' }] });
    expect(checkContract(positiveSeconds(), 0)).toEqual({ ok: false, issues: [{ path: '', message: 'must be greater than 0' }] });
  });

  it('paths must be absolute and endpoints may default their port', () => {
    expect(checkContract(absolutePath, 'bin/check').ok).toBe(false);
    expect(endpointWithDefaultPort(6379).parse({ address: '10.0.0.1' })).toEqual({ address: '10.0.0.1', port: 6379 });
  });
});
