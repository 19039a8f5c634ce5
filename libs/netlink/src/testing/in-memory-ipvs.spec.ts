import type { IpvsServiceKey } from '@fulcrum/schemas';
import { ipvsDestination, ipvsService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { dumpToTable } from '../ipvs/control.js';
import { IpvsError, SchedulerUnavailableError } from '../ipvs/errors.js';
import { InMemoryIpvs } from './in-memory-ipvs.js';

const web: IpvsServiceKey = { kind: 'addr', protocol: 'tcp', address: '10.0.0.1', port: 80 };
const svc = (over: Record<string, unknown> = {}) => ipvsService.parse({ key: web, scheduler: 'wrr', ...over });
const dest = (address: string, over: Record<string, unknown> = {}) => ipvsDestination.parse({ address, port: 80, forward: 'route', weight: 1, ...over });

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IpvsError) return err.errno;
    throw err;
  }
  return 'no error';
}

describe('InMemoryIpvs answers like ip_vs_ctl.c', () => {
  it('EEXIST for a service or destination that is already there', async () => {
    const k = new InMemoryIpvs();
    await k.addService(svc());
    await k.addDestination(web, dest('10.0.1.1'));
    expect(await errnoOf(k.addService(svc({ scheduler: 'rr' })))).toBe('EEXIST');
    expect(await errnoOf(k.addDestination(web, dest('10.0.1.1', { weight: 9 })))).toBe('EEXIST');
  });

  it('ESRCH for anything on a missing service, ENOENT for a missing destination', async () => {
    const k = new InMemoryIpvs();
    expect(await errnoOf(k.deleteService(web))).toBe('ESRCH');
    expect(await errnoOf(k.editService(svc()))).toBe('ESRCH');
    expect(await errnoOf(k.addDestination(web, dest('10.0.1.1')))).toBe('ESRCH');
    expect(await errnoOf(k.zero(web))).toBe('ESRCH');
    await k.addService(svc());
    expect(await errnoOf(k.editDestination(web, dest('10.0.1.1')))).toBe('ENOENT');
    expect(await errnoOf(k.deleteDestination(web, { address: '10.0.1.1', port: 80 }))).toBe('ENOENT');
  });

  it('refuses twos like a 6.1 kernel, naming the scheduler and the kernel', async () => {
    const k = new InMemoryIpvs({ kernel: '6.1.0-28-amd64' });
    const err = await k.addService(svc({ scheduler: 'twos' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerUnavailableError);
    expect((err as SchedulerUnavailableError).message).toMatch(/scheduler 'twos' .*kernel 6\.1\.0-28-amd64/);
    expect(await errnoOf(new InMemoryIpvs({ schedulers: ['twos'] }).addService(svc({ scheduler: 'twos' })))).toBe('no error');
  });

  it('ERANGE for a lower threshold above the upper, EINVAL for GUE without a port or mixed families outside TUN', async () => {
    const k = new InMemoryIpvs();
    await k.addService(svc());
    expect(await errnoOf(k.addDestination(web, dest('10.0.1.1', { lowerThreshold: 5, upperThreshold: 4 })))).toBe('ERANGE');
    expect(await errnoOf(k.addDestination(web, dest('10.0.1.1', { forward: 'tunnel', tunnelType: 'gue' })))).toBe('EINVAL');
    expect(await errnoOf(k.addDestination(web, dest('2001:db8::1')))).toBe('EINVAL');
    expect(await errnoOf(k.addDestination(web, dest('2001:db8::1', { forward: 'tunnel' })))).toBe('no error');
  });

  it('matches IPv6 addresses in any spelling and dumps them canonical', async () => {
    const k = new InMemoryIpvs();
    const key: IpvsServiceKey = { kind: 'addr', protocol: 'udp', address: '2001:DB8:0::53', port: 53 };
    await k.addService(svc({ key }));
    await k.addDestination(key, dest('2001:db8:0:0:0:0:0:a', { port: 53 }));
    expect(await errnoOf(k.addService(svc({ key: { ...key, address: '2001:db8::53' } })))).toBe('EEXIST');
    const table = dumpToTable(await k.dump());
    expect(table.services[0]?.key).toEqual({ kind: 'addr', protocol: 'udp', address: '2001:db8::53', port: 53 });
    expect(table.services[0]?.destinations[0]?.address).toBe('2001:db8::a');
  });

  it('apply() reports every op and keeps going after a failure; every op counts as a write', async () => {
    const k = new InMemoryIpvs();
    const results = await k.apply([
      { op: 'addService', service: svc() },
      { op: 'addDestination', key: web, destination: dest('10.0.1.1') },
      { op: 'addDestination', key: web, destination: dest('10.0.1.1') },
      { op: 'addDestination', key: web, destination: dest('10.0.1.2') },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.errno))).toEqual(['ok', 'ok', 'EEXIST', 'ok']);
    expect(k.writeCount).toBe(4);
    expect((await k.dump()).services[0]?.destinations.map((d) => d.destination.address)).toEqual(['10.0.1.1', '10.0.1.2']);
    const before = k.writeCount;
    await k.dump();
    expect(k.writeCount).toBe(before);
    expect(k.reads).toBe(2);
  });

  it('keeps counters until zeroed, per service or all', async () => {
    const k = new InMemoryIpvs();
    await k.addService(svc());
    await k.addDestination(web, dest('10.0.1.1'));
    k.setStats(web, { conns: 5n, inBytes: 1n << 40n });
    k.setStats(web, { conns: 3n }, { address: '10.0.1.1', port: 80 });
    let d = await k.dump();
    expect(d.services[0]?.stats.inBytes).toBe(1n << 40n);
    expect(d.services[0]?.destinations[0]?.stats.conns).toBe(3n);
    await k.zero(web);
    d = await k.dump();
    expect(d.services[0]?.stats.conns).toBe(0n);
    expect(d.services[0]?.destinations[0]?.stats.conns).toBe(0n);
  });

  it('sync daemons: EEXIST when already running in that state, ESRCH when not running', async () => {
    const k = new InMemoryIpvs();
    await k.startDaemon({ state: 'master', interface: 'eth0', syncId: 1 });
    await k.startDaemon({ state: 'backup', interface: 'eth0', syncId: 1 });
    expect(await errnoOf(k.startDaemon({ state: 'master', interface: 'eth1', syncId: 2 }))).toBe('EEXIST');
    expect((await k.listDaemons()).map((d) => d.state)).toEqual(['master', 'backup']);
    await k.stopDaemon('master');
    expect(await errnoOf(k.stopDaemon('master'))).toBe('ESRCH');
  });

  it('timeouts: 0 leaves a value unchanged', async () => {
    const k = new InMemoryIpvs();
    await k.setTimeouts({ tcp: 100, tcpFin: 0, udp: 0 });
    expect(await k.getTimeouts()).toEqual({ tcp: 100, tcpFin: 120, udp: 300 });
  });

  it('flush empties the table', async () => {
    const k = new InMemoryIpvs();
    await k.addService(svc());
    await k.flush();
    expect((await k.dump()).services).toEqual([]);
  });
});
