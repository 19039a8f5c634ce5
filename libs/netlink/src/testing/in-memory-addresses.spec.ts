import { describe, expect, it } from 'vitest';
import { AddressError } from '../address/control.js';
import { InMemoryAddresses } from './in-memory-addresses.js';

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AddressError) return err.errno;
    throw err;
  }
  return 'no error';
}

describe('InMemoryAddresses answers like rtnetlink', () => {
  it('adds a VIP /32 and /128 on lo, EEXIST on a repeat, EADDRNOTAVAIL deleting an absent one', async () => {
    const a = new InMemoryAddresses();
    await a.addAddress('lo', '10.0.0.10', 32);
    await a.addAddress('lo', '2001:DB8::10', 128);
    expect(await a.addresses('lo')).toEqual([
      { link: 'lo', address: '10.0.0.10', prefix: 32, family: 'inet' },
      { link: 'lo', address: '2001:db8::10', prefix: 128, family: 'inet6' },
    ]);
    expect(await errnoOf(a.addAddress('lo', '10.0.0.10', 32))).toBe('EEXIST');
    expect(await errnoOf(a.addAddress('lo', '2001:db8::10', 64))).toBe('EEXIST');
    await a.deleteAddress('lo', '10.0.0.10', 32);
    expect(await errnoOf(a.deleteAddress('lo', '10.0.0.10', 32))).toBe('EADDRNOTAVAIL');
  });

  it('ENODEV for a missing link; EINVAL for a bad address or prefix', async () => {
    const a = new InMemoryAddresses();
    expect(await errnoOf(a.addAddress('eth9', '10.0.0.1', 32))).toBe('ENODEV');
    expect(await errnoOf(a.linkUp('eth9'))).toBe('ENODEV');
    expect(await errnoOf(a.addAddress('lo', '10.0.0.1', 33))).toBe('EINVAL');
    expect(await errnoOf(a.addAddress('lo', 'ten', 32))).toBe('EINVAL');
  });

  it('links go up and down; an ipip tunnel is a new link, EEXIST when the name is taken', async () => {
    const a = new InMemoryAddresses({ links: ['lo', 'eth0'] });
    await a.linkUp('eth0');
    expect((await a.link('eth0'))?.up).toBe(true);
    await a.linkDown('eth0');
    expect((await a.link('eth0'))?.up).toBe(false);
    await a.createIpipTunnel({ name: 'tunl1' });
    expect((await a.link('tunl1'))?.mtu).toBe(1480);
    expect(await errnoOf(a.createIpipTunnel({ name: 'eth0' }))).toBe('EEXIST');
    await a.deleteLink('tunl1');
    expect(await a.link('tunl1')).toBeNull();
  });

  it('sysctls by slash path; refuses paths that could escape /proc/sys', async () => {
    const a = new InMemoryAddresses({ sysctls: { 'net/ipv4/conf/all/arp_ignore': '0' } });
    await a.writeSysctl('net/ipv4/conf/all/arp_ignore', 1);
    expect(await a.readSysctl('net/ipv4/conf/all/arp_ignore')).toBe('1');
    expect(await errnoOf(a.writeSysctl('net/../../etc/passwd', 1))).toBe('EINVAL');
    expect(await errnoOf(a.readSysctl('net/ipv4/conf/all/nope'))).toBe('ENOENT');
    expect(a.writes).toEqual(['writeSysctl net/ipv4/conf/all/arp_ignore=1']);
  });
});
