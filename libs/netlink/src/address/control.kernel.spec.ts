import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressError, RtnetlinkAddresses } from './control.js';

// The real-server side in the lab kernel (the host has no ipip): an ipip tunnel device for TUN
// forwarding, the VIP on it and on lo, and the ARP sysctls, all in a namespace this file owns.
const NS = 'fnl-rs';
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', timeout: 30_000 });

describe('RtnetlinkAddresses for a TUN real server', () => {
  let a: RtnetlinkAddresses;
  beforeAll(() => {
    execFileSync('modprobe', ['-a', 'ipip']);
    ip('netns', 'add', NS);
    a = new RtnetlinkAddresses({ netns: NS });
  });
  afterAll(async () => {
    await a?.close();
    ip('netns', 'del', NS);
  });

  it('creates an ipip tunnel, puts the VIP on it and on lo, and sets the ARP sysctls', async () => {
    await a.linkUp('lo');
    await a.createIpipTunnel({ name: 'tun-vip', local: '10.0.3.2' });
    await a.linkUp('tun-vip');
    expect(ip('-n', NS, '-d', 'link', 'show', 'tun-vip')).toMatch(/ipip .*local 10\.0\.3\.2/);
    expect((await a.link('tun-vip'))?.up).toBe(true);
    await a.addAddress('tun-vip', '10.0.0.100', 32);
    await a.addAddress('lo', '10.0.0.101', 32);
    await a.addAddress('lo', '2001:db8::101', 128);
    expect(ip('-n', NS, '-o', 'addr', 'show')).toMatch(/tun-vip\s+inet 10\.0\.0\.100\/32/);
    expect(await a.addresses('lo')).toContainEqual({ link: 'lo', address: '2001:db8::101', prefix: 128, family: 'inet6' });
    for (const dev of ['all', 'tun-vip']) {
      await a.writeSysctl(`net/ipv4/conf/${dev}/arp_ignore`, 1);
      await a.writeSysctl(`net/ipv4/conf/${dev}/arp_announce`, 2);
    }
    await a.writeSysctl('net/ipv4/conf/tun-vip/rp_filter', 0);
    expect(ip('netns', 'exec', NS, 'sysctl', '-n', 'net.ipv4.conf.tun-vip.arp_announce').trim()).toBe('2');
    expect(await a.readSysctl('net/ipv4/conf/all/arp_ignore')).toBe('1');

    const dup = await a.createIpipTunnel({ name: 'tun-vip' }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(AddressError);
    expect((dup as AddressError).errno).toBe('EEXIST');
    await a.deleteLink('tun-vip');
    expect(await a.link('tun-vip')).toBeNull();
  });
});
