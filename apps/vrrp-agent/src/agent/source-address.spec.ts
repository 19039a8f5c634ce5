import type { LinkAddress } from '@fulcrum/netlink';
import { describe, expect, it } from 'vitest';
import { sourceAddress } from './source-address.js';
import type { SourceQuery } from './source-address.js';

const addr = (address: string, tentative = false): LinkAddress => ({ address, prefix: address.includes(':') ? 64 : 24, family: address.includes(':') ? 'inet6' : 'inet', tentative });
const query = (over: Partial<SourceQuery>): SourceQuery => ({ instance: 'v6', interface: 'eth0', family: 'ipv6', addresses: [], vips: new Set(), unicastPeers: [], ...over });

describe('sourceAddress', () => {
  it('IPv6: the link-local address, not a global one nor a VIP; a tentative one is waited for, naming it', () => {
    expect(sourceAddress(query({ addresses: [addr('fd00::11'), addr('fe80::11')], vips: new Set(['fd00::100']) }))).toEqual({ ok: true, address: 'fe80::11' });
    expect(sourceAddress(query({ addresses: [addr('10.0.0.1'), addr('fd00::11')] }))).toEqual({
      ok: false,
      why: 'interface eth0 has no IPv6 link-local address to send the adverts of v6 from (link down, or addr_gen_mode none)',
    });
    expect(sourceAddress(query({ addresses: [addr('fe80::11', true)] }))).toEqual({
      ok: false,
      why: 'IPv6 address fe80::11 of interface eth0 is tentative (duplicate address detection); the adverts of v6 wait for it',
    });
    // A usable link-local beats a tentative one (a second one being added).
    expect(sourceAddress(query({ addresses: [addr('fe80::12', true), addr('fe80::11')] }))).toEqual({ ok: true, address: 'fe80::11' });
  });

  it('IPv6 unicast: the address listed among the peers, waited for while tentative even when a link-local one is usable', () => {
    const peers = ['fd00::11', 'fd00::12'];
    expect(sourceAddress(query({ addresses: [addr('fe80::11'), addr('fd00::11')], unicastPeers: peers }))).toEqual({ ok: true, address: 'fd00::11' });
    expect(sourceAddress(query({ addresses: [addr('fe80::11'), addr('fd00::11', true)], unicastPeers: peers }))).toMatchObject({ ok: false, why: expect.stringMatching(/fd00::11 .* tentative/) });
    expect(sourceAddress(query({ addresses: [addr('fe80::11')], unicastPeers: peers }))).toEqual({ ok: true, address: 'fe80::11' });
  });

  it('IPv4: the first address that is no VIP', () => {
    const q = query({ family: 'ipv4', instance: 'vi-1' });
    expect(sourceAddress({ ...q, addresses: [addr('10.0.0.100'), addr('10.0.0.11')], vips: new Set(['10.0.0.100']) })).toEqual({ ok: true, address: '10.0.0.11' });
    expect(sourceAddress({ ...q, addresses: [addr('fe80::11')] })).toEqual({ ok: false, why: 'interface eth0 has no IPv4 address to send the adverts of vi-1 from' });
  });
});
