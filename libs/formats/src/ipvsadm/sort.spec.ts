import type { IpvsDestination, IpvsService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { sortDestinationsLikeIpvsadm, sortServicesLikeIpvsadm } from './sort.js';

// The captured fixtures check these orders against ipvsadm on a real kernel; these pin down the
// rules on small cases.

const noFlags = { onePacket: false, shFallback: false, shPort: false, mhFallback: false, mhPort: false };
const svc = (key: IpvsService['key']): IpvsService => ({ key, scheduler: 'rr', flags: noFlags, persistence: 0, destinations: [] });
const tcp = (address: string, port = 80) => svc({ kind: 'addr', protocol: 'tcp', address, port });
const names = (list: IpvsService[]) => list.map((s) => (s.key.kind === 'addr' ? `${s.key.protocol} ${s.key.address}:${s.key.port}` : `fwm ${s.key.fwmark}${s.key.family === 'inet6' ? ' v6' : ''}`));
const dest = (address: string, port = 80): IpvsDestination => ({
  address, port, forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnelType: 'ipip', tunnelPort: 0, tunnelFlags: [],
});

describe('sortServicesLikeIpvsadm', () => {
  it('orders address services before marks, IPv4 before IPv6, TCP before UDP before SCTP, then address and port', () => {
    const list = [
      svc({ kind: 'fwmark', fwmark: 2, family: 'inet' }),
      svc({ kind: 'addr', protocol: 'sctp', address: '10.0.0.1', port: 80 }),
      svc({ kind: 'addr', protocol: 'udp', address: '10.0.0.1', port: 80 }),
      tcp('2001:db8::1'),
      tcp('10.0.0.2', 80),
      tcp('10.0.0.1', 443),
      tcp('10.0.0.1', 80),
      svc({ kind: 'fwmark', fwmark: 1, family: 'inet6' }),
      svc({ kind: 'fwmark', fwmark: 1, family: 'inet' }),
    ];
    expect(names(sortServicesLikeIpvsadm(list))).toEqual([
      'tcp 10.0.0.1:80', 'tcp 10.0.0.1:443', 'tcp 10.0.0.2:80', 'udp 10.0.0.1:80', 'sctp 10.0.0.1:80', 'tcp 2001:db8::1:80',
      'fwm 1', 'fwm 1 v6', 'fwm 2',
    ]);
  });

  it('compares addresses as ipvsadm does, with a wrapping 32-bit difference: 192.168/16 before 10/8', () => {
    expect(names(sortServicesLikeIpvsadm([tcp('10.0.0.1'), tcp('192.168.0.1')]))).toEqual(['tcp 192.168.0.1:80', 'tcp 10.0.0.1:80']);
    expect(names(sortServicesLikeIpvsadm([tcp('192.168.0.1'), tcp('10.0.0.1')]))).toEqual(['tcp 192.168.0.1:80', 'tcp 10.0.0.1:80']);
    // Marks at or above 2^31 sort before address services (0 - mark wraps positive).
    expect(names(sortServicesLikeIpvsadm([svc({ kind: 'fwmark', fwmark: 3000000000, family: 'inet' }), tcp('10.0.0.1')]))).toEqual([
      'fwm 3000000000', 'tcp 10.0.0.1:80',
    ]);
  });

  it('follows glibc merge sort when the comparison is not transitive, so the input order matters', () => {
    const a = tcp('1.0.0.1');
    const b = tcp('100.0.0.1');
    const c = tcp('200.0.0.1'); // a < b < c < a around the circle
    expect(names(sortServicesLikeIpvsadm([a, b, c]))).toEqual(['tcp 1.0.0.1:80', 'tcp 100.0.0.1:80', 'tcp 200.0.0.1:80']);
    expect(names(sortServicesLikeIpvsadm([c, b, a]))).toEqual(['tcp 200.0.0.1:80', 'tcp 1.0.0.1:80', 'tcp 100.0.0.1:80']);
  });

  it('is stable for equal keys and does not change its input', () => {
    const list = [tcp('10.0.0.2'), tcp('10.0.0.1')];
    const copy = [...list];
    sortServicesLikeIpvsadm(list);
    expect(list).toEqual(copy);
  });
});

describe('sortDestinationsLikeIpvsadm', () => {
  it('orders by address then port, with the same wrapping comparison', () => {
    const sorted = sortDestinationsLikeIpvsadm([dest('10.0.0.1', 81), dest('172.16.0.1'), dest('10.0.0.1', 79), dest('2001:db8::1')]);
    expect(sorted.map((d) => `${d.address}:${d.port}`)).toEqual(['172.16.0.1:80', '10.0.0.1:79', '10.0.0.1:81', '2001:db8::1:80']);
  });

  it('compares IPv6 addresses word by word, each word wrapping', () => {
    const sorted = sortDestinationsLikeIpvsadm([dest('2001:db8::2'), dest('fd00::1'), dest('2001:db8::1')]);
    expect(sorted.map((d) => d.address)).toEqual(['fd00::1', '2001:db8::1', '2001:db8::2']);
  });
});
