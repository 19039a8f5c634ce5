import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VirtualService } from '@fulcrum/schemas';
import { virtualService } from '@fulcrum/schemas';
import { InMemoryAddresses } from '@fulcrum/netlink/testing';
import { memoryLogger } from '@fulcrum/testing';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { RealServerRole, RealServerStateError, vipsServedBy } from './role.js';

const vs = (id: string, address: string, forwarding: 'nat' | 'dr' | 'tun', servers: string[], over: Partial<z.input<typeof virtualService>> = {}): VirtualService =>
  virtualService.parse({
    kind: 'virtual-service',
    id,
    match: { kind: 'address', protocol: 'tcp', address, port: 80 },
    forwarding,
    realServers: servers.map((a) => ({ address: a, port: 80 })),
    ...over,
  });

const SYSCTLS = {
  'net/ipv4/conf/all/arp_ignore': '0',
  'net/ipv4/conf/lo/arp_ignore': '0',
  'net/ipv4/conf/all/arp_announce': '0',
  'net/ipv4/conf/lo/arp_announce': '0',
  'net/ipv4/conf/all/rp_filter': '0',
  'net/ipv4/conf/default/rp_filter': '0',
  'net/ipv4/conf/eth0/rp_filter': '0',
  // What Debian's systemd gives every device: loose.
  'net/ipv4/conf/tunl0/rp_filter': '2',
};

function setup(statePath = join(mkdtempSync(join(tmpdir(), 'rs-role-')), 'state.json'), kernel = new InMemoryAddresses({ links: ['lo', 'eth0'], sysctls: SYSCTLS })) {
  const role = new RealServerRole({ addresses: kernel, logger: memoryLogger().logger, statePath });
  return { kernel, role, statePath };
}

describe('vipsServedBy', () => {
  it('takes DR and TUN services where this host is a real or sorry server; not NAT, not other hosts, not fwmark', () => {
    const services = [
      vs('dr', '10.0.0.1', 'dr', ['10.0.1.1', '10.0.1.2']),
      vs('tun', '10.0.0.2', 'tun', ['10.0.1.1']),
      vs('nat', '10.0.0.3', 'nat', ['10.0.1.1']),
      vs('other', '10.0.0.4', 'dr', ['10.0.1.9']),
      vs('sorry', '10.0.0.5', 'dr', ['10.0.1.9'], { sorryServer: { address: '10.0.1.1', port: 80 } }),
      vs('v6', '2001:db8:0::1', 'dr', ['2001:db8::21']),
      virtualService.parse({ kind: 'virtual-service', id: 'mark', match: { kind: 'fwmark', fwmark: 5 }, forwarding: 'dr', realServers: [{ address: '10.0.1.1', port: 0 }] }),
    ];
    expect([...vipsServedBy(services, ['10.0.1.1', '2001:db8:0:0::21']).values()]).toEqual([
      { address: '10.0.0.1', prefix: 32, tunnel: false },
      { address: '10.0.0.2', prefix: 32, tunnel: true },
      { address: '10.0.0.5', prefix: 32, tunnel: false },
      { address: '2001:db8::1', prefix: 128, tunnel: false },
    ]);
  });
});

describe('RealServerRole', () => {
  it('DR: VIP on lo and ARP sysctls; the same state again changes nothing, also after a restart; removal undoes it all', async () => {
    const { kernel, role, statePath } = setup();
    const vips = vipsServedBy([vs('dr', '10.0.0.1', 'dr', ['10.0.1.1']), vs('v6', '2001:db8::1', 'dr', ['2001:db8::21'])], ['10.0.1.1', '2001:db8::21']);
    await role.apply(vips);
    expect((await kernel.addresses('lo')).map((a) => `${a.address}/${a.prefix}`)).toEqual(['10.0.0.1/32', '2001:db8::1/128']);
    expect(kernel.sysctls.get('net/ipv4/conf/all/arp_ignore')).toBe('1');
    expect(kernel.sysctls.get('net/ipv4/conf/lo/arp_announce')).toBe('2');
    // The sysctls come before the VIP, so the host never answers ARP for it.
    expect(kernel.writes.findIndex((w) => w.startsWith('addAddress'))).toBeGreaterThan(kernel.writes.findLastIndex((w) => w.startsWith('writeSysctl')));
    const writes = kernel.writeCount;
    expect(await role.apply(vips)).toEqual([]);
    const restarted = setup(statePath, kernel).role;
    expect(await restarted.apply(vips)).toEqual([]);
    expect(kernel.writeCount).toBe(writes);

    await restarted.apply(new Map());
    expect(await kernel.addresses('lo')).toEqual([]);
    expect(Object.fromEntries([...kernel.sysctls].filter(([k]) => k.includes('arp')))).toEqual({
      'net/ipv4/conf/all/arp_ignore': '0',
      'net/ipv4/conf/lo/arp_ignore': '0',
      'net/ipv4/conf/all/arp_announce': '0',
      'net/ipv4/conf/lo/arp_announce': '0',
    });
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toEqual({ addresses: [], sysctls: {}, tunnelUp: false });
  });

  it('TUN: tunl0 created and up with rp_filter 0 (loose drops on an address-less device); taken down again when the last TUN VIP goes', async () => {
    const { kernel, role, statePath } = setup();
    const tunVips = vipsServedBy([vs('tun', '10.0.0.2', 'tun', ['10.0.1.1'])], ['10.0.1.1']);
    await role.apply(tunVips);
    expect(await kernel.link('tunl0')).toMatchObject({ up: true });
    expect(kernel.sysctls.get('net/ipv4/conf/tunl0/rp_filter')).toBe('0');
    expect(kernel.sysctls.get('net/ipv4/conf/all/rp_filter')).toBe('0');
    expect((await kernel.addresses('lo')).map((a) => a.address)).toEqual(['10.0.0.2']);
    // `all` was already 0: no other device needed anything.
    expect(kernel.writes.filter((w) => w.includes('rp_filter'))).toEqual(['writeSysctl net/ipv4/conf/tunl0/rp_filter=0']);
    const writes = kernel.writeCount;
    expect(await setup(statePath, kernel).role.apply(tunVips)).toEqual([]);
    expect(kernel.writeCount).toBe(writes);
    // Still serving a DR VIP: ARP settings stay, the tunnel goes.
    await role.apply(vipsServedBy([vs('dr', '10.0.0.1', 'dr', ['10.0.1.1'])], ['10.0.1.1']));
    expect(await kernel.link('tunl0')).toMatchObject({ up: false });
    expect(kernel.sysctls.get('net/ipv4/conf/tunl0/rp_filter')).toBe('2');
    expect(kernel.sysctls.get('net/ipv4/conf/lo/arp_ignore')).toBe('1');
    expect((await kernel.addresses('lo')).map((a) => a.address)).toEqual(['10.0.0.1']);
  });

  it('TUN on a host with strict rp_filter on all: all goes to 0 and every other device keeps its filter; all restored first on removal', async () => {
    const kernel = new InMemoryAddresses({
      links: ['lo', 'eth0', 'eth1', 'tunl0'],
      sysctls: { ...SYSCTLS, 'net/ipv4/conf/all/rp_filter': '1', 'net/ipv4/conf/eth1/rp_filter': '2', 'net/ipv4/conf/tunl0/rp_filter': '0' },
    });
    const { role, statePath } = setup(undefined, kernel);
    const tunVips = vipsServedBy([vs('tun', '10.0.0.2', 'tun', ['10.0.1.1'])], ['10.0.1.1']);
    await role.apply(tunVips);
    const rp = () => Object.fromEntries([...kernel.sysctls].filter(([k]) => k.endsWith('rp_filter')).map(([k, v]) => [k.split('/')[3], v]));
    // eth1 was loose on its own (max(1, 2) = 2): it stays so; eth0 keeps strict. `default` is not
    // touched: the kernel copies a write there to every device not written explicitly.
    expect(rp()).toEqual({ all: '0', default: '0', eth0: '1', eth1: '2', tunl0: '0' });
    // Devices first, all last: at no point is eth0 left unfiltered.
    expect(kernel.writes.filter((w) => w.includes('rp_filter'))).toEqual([
      'writeSysctl net/ipv4/conf/eth0/rp_filter=1',
      'writeSysctl net/ipv4/conf/all/rp_filter=0',
    ]);
    const writes = kernel.writeCount;
    expect(await setup(statePath, kernel).role.apply(tunVips)).toEqual([]);
    expect(kernel.writeCount).toBe(writes);

    kernel.writes.length = 0;
    await role.apply(new Map());
    expect(rp()).toEqual({ all: '1', default: '0', eth0: '0', eth1: '2', tunl0: '0' });
    expect(kernel.writes.filter((w) => w.includes('rp_filter'))).toEqual([
      'writeSysctl net/ipv4/conf/all/rp_filter=1',
      'writeSysctl net/ipv4/conf/eth0/rp_filter=0',
    ]);
  });

  it('leaves alone a VIP someone else put on lo', async () => {
    const { kernel, role } = setup();
    await kernel.addAddress('lo', '10.0.0.1', 32);
    const vips = vipsServedBy([vs('dr', '10.0.0.1', 'dr', ['10.0.1.1'])], ['10.0.1.1']);
    await role.apply(vips);
    await role.apply(new Map());
    expect((await kernel.addresses('lo')).map((a) => a.address)).toEqual(['10.0.0.1']);
  });

  it('an unreadable state file is a clear error naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-role-'));
    const path = join(dir, 'state.json');
    writeFileSync(path, '{ not json');
    await expect(setup(path).role.apply(new Map())).rejects.toThrow(RealServerStateError);
    await expect(setup(path).role.apply(new Map())).rejects.toThrow(`state file ${path} is unreadable`);
  });
});
