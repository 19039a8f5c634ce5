import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkIpvs } from '../ipvs/control.js';
import { IpvsUnavailableError } from '../ipvs/errors.js';
import { NetnsError } from '../netns.js';
import { AddressError, RtnetlinkAddresses } from './control.js';

// Runs in a network namespace the spec creates and deletes, so the host's own links are untouched.
const ns = `fnl-addr-${process.pid}`;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AddressError) return err.errno;
    throw err;
  }
  return 'no error';
}

describe('RtnetlinkAddresses in a namespace', () => {
  let a: RtnetlinkAddresses;
  beforeAll(() => {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1');
    a = new RtnetlinkAddresses({ netns: ns });
  });
  afterAll(async () => {
    await a?.close();
    ip('netns', 'del', ns);
  });

  it('brings links up and down, as `ip link` then sees them', async () => {
    expect((await a.link('lo'))?.up).toBe(false);
    await a.linkUp('lo');
    await a.linkUp('veth0');
    expect((await a.link('lo'))?.up).toBe(true);
    expect(ip('-n', ns, '-o', 'link', 'show', 'veth0')).toMatch(/<[^>]*\bUP\b/);
    await a.linkDown('veth0');
    expect(ip('-n', ns, '-o', 'link', 'show', 'veth0')).not.toMatch(/<[^>]*\bUP\b/);
    expect(await a.link('nope0')).toBeNull();
  });

  it('puts a VIP /32 and /128 on lo and takes it away again', async () => {
    await a.addAddress('lo', '10.77.0.1', 32);
    await a.addAddress('lo', '2001:db8:77:0::1', 128);
    await a.addAddress('veth0', '192.168.77.2', 24);
    const shown = ip('-n', ns, '-o', 'addr', 'show');
    expect(shown).toContain('inet 10.77.0.1/32');
    expect(shown).toContain('inet6 2001:db8:77::1/128');
    expect(shown).toMatch(/veth0\s+inet 192\.168\.77\.2\/24/);
    const listed = await a.addresses('lo');
    expect(listed).toContainEqual({ link: 'lo', address: '10.77.0.1', prefix: 32, family: 'inet' });
    expect(listed).toContainEqual({ link: 'lo', address: '2001:db8:77::1', prefix: 128, family: 'inet6' });
    expect(await a.addresses('veth0')).toContainEqual({ link: 'veth0', address: '192.168.77.2', prefix: 24, family: 'inet' });

    expect(await errnoOf(a.addAddress('lo', '10.77.0.1', 32))).toBe('EEXIST');
    await a.deleteAddress('lo', '10.77.0.1', 32);
    await a.deleteAddress('lo', '2001:db8:77::1', 128);
    expect(await errnoOf(a.deleteAddress('lo', '10.77.0.1', 32))).toBe('EADDRNOTAVAIL');
    expect(ip('-n', ns, '-o', 'addr', 'show', 'dev', 'lo')).not.toContain('10.77.0.1');
  });

  it('names the missing link and the bad input', async () => {
    expect(await errnoOf(a.addAddress('nope0', '10.77.0.9', 32))).toBe('ENODEV');
    const err = await a.addAddress('lo', '10.77.0.9', 40).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/prefix 40/);
  });

  it('reads and writes the real-server sysctls inside the namespace only', async () => {
    const hostValue = execFileSync('cat', ['/proc/sys/net/ipv4/conf/all/arp_announce'], { encoding: 'utf8' }).trim();
    await a.writeSysctl('net/ipv4/conf/all/arp_ignore', 1);
    await a.writeSysctl('net/ipv4/conf/all/arp_announce', 2);
    expect(await a.readSysctl('net/ipv4/conf/all/arp_ignore')).toBe('1');
    expect(ip('netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/conf/all/arp_announce').trim()).toBe('2');
    expect(execFileSync('cat', ['/proc/sys/net/ipv4/conf/all/arp_announce'], { encoding: 'utf8' }).trim()).toBe(hostValue);
    expect(await errnoOf(a.readSysctl('net/ipv4/conf/nope0/arp_ignore'))).toBe('ENOENT');
    expect(await errnoOf(a.writeSysctl('../etc/hostname', 'x'))).toBe('EINVAL');
  });

  it('an ipip link on a kernel without ipip is refused with a typed error', async () => {
    const hasIpip = existsSync('/sys/module/ipip') || existsSync('/proc/sys/net/ipv4/conf/tunl0');
    const r = await a.createIpipTunnel({ name: 'tun-rs' }).then(
      () => 'created',
      (e: unknown) => (e instanceof AddressError ? e.errno : 'untyped'),
    );
    expect(r).toBe(hasIpip ? 'created' : 'EOPNOTSUPP');
  });

  it('a namespace that does not exist is named in the error', () => {
    expect(() => new RtnetlinkAddresses({ netns: 'fnl-missing-ns' })).toThrow(NetnsError);
    expect(() => new RtnetlinkAddresses({ netns: '../etc' })).toThrow(/not a plain name/);
  });
});

describe('NetlinkIpvs on this host', () => {
  it('says plainly when the kernel has no IPVS (and opens when it does)', async () => {
    const hasIpvs = existsSync('/proc/net/ip_vs');
    const r = await NetlinkIpvs.open().then(
      async (k) => {
        await k.close();
        return 'opened';
      },
      (e: unknown) => e,
    );
    if (hasIpvs) expect(r).toBe('opened');
    else {
      expect(r).toBeInstanceOf(IpvsUnavailableError);
      expect((r as Error).message).toMatch(/IPVS is not available on kernel/);
    }
  });
});
