import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { release } from 'node:os';
import type { IpvsDestination, IpvsService, IpvsServiceKey } from '@fulcrum/schemas';
import { destinationId, ipvsDestination, ipvsService, serviceId } from '@fulcrum/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryIpvs, KERNEL_6_1_SCHEDULERS } from '../testing/in-memory-ipvs.js';
import type { DumpedService } from './codec.js';
import { canonicalService } from './codec.js';
import type { IpvsOp } from './control.js';
import { NetlinkIpvs, dumpToTable } from './control.js';
import { SchedulerUnavailableError } from './errors.js';

// Real IPVS in the lab VM, with Debian's ipvsadm as the independent oracle. Everything happens in
// namespaces this file creates: `fnl-ipvs` (the director: a dummy link in the real servers' subnets
// so destinations are unicast-routable, and a veth towards `fnl-cli`, the client for traffic).

const NS = 'fnl-ipvs';
const CLI = 'fnl-cli';
const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000, input, stdio: ['pipe', 'pipe', 'pipe'] });
const inNs = (ns: string, cmd: string, ...args: string[]): string => run('ip', ['netns', 'exec', ns, cmd, ...args]);
const ipvsadm = (...args: string[]): string => inNs(NS, 'ipvsadm', ...args);
const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter(Boolean).sort();

const svc = (o: Record<string, unknown>): IpvsService => ipvsService.parse(o);
const dst = (o: Record<string, unknown>): IpvsDestination => ipvsDestination.parse({ port: 80, forward: 'route', weight: 1, ...o });
const tcp80: IpvsServiceKey = { kind: 'addr', protocol: 'tcp', address: '10.0.1.100', port: 80 };
const udp6: IpvsServiceKey = { kind: 'addr', protocol: 'udp', address: '2001:db8::53', port: 53 };
const fw4: IpvsServiceKey = { kind: 'fwmark', fwmark: 7, family: 'inet' };
const fw6: IpvsServiceKey = { kind: 'fwmark', fwmark: 9, family: 'inet6' };
const sctp: IpvsServiceKey = { kind: 'addr', protocol: 'sctp', address: '10.0.1.101', port: 80 };
const sip: IpvsServiceKey = { kind: 'addr', protocol: 'udp', address: '10.0.1.102', port: 5060 };

/** One table touching every option, and how `ipvsadm-save -n` prints it. */
const table: IpvsService[] = [
  svc({
    key: tcp80,
    scheduler: 'wrr',
    persistence: 300,
    persistencePrefix: 24,
    destinations: [
      dst({ address: '10.0.1.2', weight: 3 }),
      dst({ address: '10.0.1.3', forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['csum'], upperThreshold: 100, lowerThreshold: 5 }),
      dst({ address: '10.0.1.4', forward: 'masq', weight: 0 }),
      dst({ address: '10.0.1.5', forward: 'tunnel', tunnelType: 'gre', tunnelFlags: ['csum'], weight: 2 }),
      dst({ address: '10.0.1.6', forward: 'tunnel', weight: 2 }),
    ],
  }),
  svc({ key: udp6, scheduler: 'mh', flags: { mhFallback: true, mhPort: true }, destinations: [dst({ address: '2001:db8:1::2', port: 53, forward: 'masq' })] }),
  svc({ key: fw4, scheduler: 'sh', flags: { shFallback: true, shPort: true, onePacket: true }, destinations: [dst({ address: '10.0.1.4', port: 0, forward: 'masq' })] }),
  svc({ key: fw6, scheduler: 'wlc', persistence: 100, persistencePrefix: 64, destinations: [dst({ address: '2001:db8:1::5', port: 0, weight: 0 })] }),
  svc({ key: sctp, scheduler: 'lc', persistence: 60, destinations: [dst({ address: '10.0.1.7', forward: 'route' })] }),
  svc({ key: sip, scheduler: 'rr', persistence: 30, persistenceEngine: 'sip' }),
];
const saved = [
  '-A -t 10.0.1.100:80 -s wrr -p 300 -M 255.255.255.0',
  '-a -t 10.0.1.100:80 -r 10.0.1.2:80 -g -w 3',
  '-a -t 10.0.1.100:80 -r 10.0.1.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
  '-a -t 10.0.1.100:80 -r 10.0.1.4:80 -m -w 0',
  '-a -t 10.0.1.100:80 -r 10.0.1.5:80 -i -w 2 --tun-type gre --tun-csum',
  '-a -t 10.0.1.100:80 -r 10.0.1.6:80 -i -w 2 --tun-type ipip',
  '-A -u [2001:db8::53]:53 -s mh -b mh-fallback,mh-port',
  '-a -u [2001:db8::53]:53 -r [2001:db8:1::2]:53 -m -w 1',
  '-A -f 7 -s sh -o -b sh-fallback,sh-port',
  '-a -f 7 -r 10.0.1.4:0 -m -w 1',
  '-A -f 9 -6 -s wlc -p 100 -M 64',
  '-a -f 9 -6 -r [2001:db8:1::5]:0 -g -w 0',
  '-A --sctp-service 10.0.1.101:80 -s lc -p 60',
  '-a --sctp-service 10.0.1.101:80 -r 10.0.1.7:80 -g -w 1',
  '-A -u 10.0.1.102:5060 -s rr -p 30 --pe sip',
];

const opsFor = (services: IpvsService[]): IpvsOp[] =>
  services.flatMap((s) => [{ op: 'addService' as const, service: s }, ...s.destinations.map((d) => ({ op: 'addDestination' as const, key: s.key, destination: d }))]);

/** Order-free comparison: services by id, destinations by id. */
const sorted = (services: IpvsService[]): IpvsService[] =>
  services
    .map((s) => ({ ...s, destinations: [...s.destinations].sort((a, b) => destinationId(a).localeCompare(destinationId(b))) }))
    .sort((a, b) => serviceId(a.key).localeCompare(serviceId(b.key)));

let k: NetlinkIpvs;

/** Answers every connection with a line and closes it. */
const SERVER = `require('net').createServer((c) => c.end('fulcrum\\n')).listen(80)`;
/** Connects to the VIP argv[1] times (retrying while the server starts), prints how many got the line. */
const CLIENT = `
const net = require('net');
const once = () => new Promise((done) => {
  const c = net.connect({ host: '10.0.2.1', port: 80, timeout: 3000 });
  let got = '';
  c.on('data', (d) => (got += d));
  c.on('timeout', () => c.destroy());
  c.on('error', () => done(false));
  c.on('close', () => done(got.includes('fulcrum')));
});
(async () => {
  let ok = 0;
  for (let tries = 0; ok < Number(process.argv[1]) && tries < 60; tries += 1) {
    if (await once()) ok += 1; else await new Promise((r) => setTimeout(r, 250));
  }
  console.log(ok);
})();`;

/** The kernel folds per-CPU counters into what it reports every 2 s: wait until two reads agree (rates keep decaying, so only counters). */
async function settled(): Promise<DumpedService | undefined> {
  let last = '';
  for (let i = 0; i < 10; i += 1) {
    const s = (await k.dump()).services[0];
    const c = s?.stats;
    const now = c ? [c.conns, c.inPackets, c.outPackets, c.inBytes, c.outBytes].join(' ') : '';
    if (now === last && s && s.stats.conns > 0n) return s;
    last = now;
    await new Promise((r) => setTimeout(r, 2100));
  }
  throw new Error(`IPVS counters did not settle: ${last}`);
}
let httpd: ChildProcess | undefined;

beforeAll(async () => {
  run('modprobe', ['-a', 'ip_vs', 'dummy', 'veth']);
  for (const ns of [NS, CLI]) {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  run('ip', ['-n', NS, 'link', 'add', 'd0', 'type', 'dummy']);
  run('ip', ['-n', NS, 'link', 'set', 'd0', 'up']);
  run('ip', ['-n', NS, 'addr', 'add', '10.0.1.1/24', 'dev', 'd0']);
  run('ip', ['-n', NS, 'addr', 'add', '2001:db8:1::1/64', 'dev', 'd0', 'nodad']);
  run('ip', ['-n', NS, 'link', 'add', 'v-dir', 'type', 'veth', 'peer', 'name', 'v-cli', 'netns', CLI]);
  run('ip', ['-n', NS, 'addr', 'add', '10.0.2.1/24', 'dev', 'v-dir']);
  run('ip', ['-n', NS, 'link', 'set', 'v-dir', 'up']);
  run('ip', ['-n', CLI, 'addr', 'add', '10.0.2.2/24', 'dev', 'v-cli']);
  run('ip', ['-n', CLI, 'link', 'set', 'v-cli', 'up']);
  k = await NetlinkIpvs.open({ netns: NS });
});

afterAll(async () => {
  httpd?.kill();
  await k?.close();
  for (const ns of [NS, CLI]) run('ip', ['netns', 'del', ns]);
});

describe('NetlinkIpvs against the kernel, ipvsadm as the oracle', () => {
  it('info and timeouts agree with /proc/net/ip_vs and ipvsadm --set', async () => {
    const info = await k.info();
    expect(info.version).toBe('1.2.1');
    expect(inNs(NS, 'cat', '/proc/net/ip_vs')).toContain(`(size=${info.connTableSize})`);

    await k.setTimeouts({ tcp: 1000, tcpFin: 0, udp: 200 });
    const before = await k.getTimeouts();
    expect(before.tcp).toBe(1000);
    expect(before.udp).toBe(200);
    expect(ipvsadm('-L', '--timeout')).toContain(`Timeout (tcp tcpfin udp): 1000 ${before.tcpFin} 200`);
    ipvsadm('--set', '900', '60', '300');
    expect(await k.getTimeouts()).toEqual({ tcp: 900, tcpFin: 60, udp: 300 });
  });

  it('sets every kind of service and destination in one batch; ipvsadm-save prints exactly that', async () => {
    await k.flush();
    const results = await k.apply(opsFor(table));
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.message))).toEqual([]);
    expect(lines(inNs(NS, 'ipvsadm-save', '-n'))).toEqual([...saved].sort());
    // Thresholds are not in ipvsadm-save's output; -L --thresholds shows them.
    expect(ipvsadm('-Ln', '--thresholds')).toMatch(/-> 10\.0\.1\.3:80\s+100\s+5\s/);
    // And the dump returns the same table.
    expect(sorted(dumpToTable(await k.dump()).services)).toEqual(sorted(table.map(canonicalService)));
  });

  it('reads back a table written by ipvsadm-restore', async () => {
    ipvsadm('-C');
    const restore = saved.map((l) => (l.startsWith('-a -t 10.0.1.100:80 -r 10.0.1.3:80') ? `${l} -x 100 -y 5` : l)).join('\n');
    run('ip', ['netns', 'exec', NS, 'ipvsadm-restore'], `${restore}\n`);
    expect(sorted(dumpToTable(await k.dump()).services)).toEqual(sorted(table.map(canonicalService)));
  });

  it('local forwarding shows as Local; edits change scheduler, persistence and weight', async () => {
    await k.flush();
    await k.addService(svc({ key: tcp80, scheduler: 'rr' }));
    await k.addDestination(tcp80, dst({ address: '10.0.1.1', forward: 'local' }));
    await k.addDestination(tcp80, dst({ address: '10.0.1.2', weight: 1 }));
    expect(ipvsadm('-Ln')).toMatch(/-> 10\.0\.1\.1:80\s+Local\s+1/);
    await k.editService(svc({ key: tcp80, scheduler: 'sed', persistence: 20, flags: { onePacket: true } }));
    await k.editDestination(tcp80, dst({ address: '10.0.1.2', weight: 7, forward: 'masq' }));
    const save = lines(inNs(NS, 'ipvsadm-save', '-n'));
    expect(save).toContain('-A -t 10.0.1.100:80 -s sed -p 20 -o');
    expect(save).toContain('-a -t 10.0.1.100:80 -r 10.0.1.2:80 -m -w 7');
    await k.deleteDestination(tcp80, { address: '10.0.1.2', port: 80 });
    expect(ipvsadm('-Ln')).not.toContain('10.0.1.2');
    await k.deleteService(tcp80);
    expect(inNs(NS, 'ipvsadm-save', '-n').trim()).toBe('');
  });

  it('accepts every scheduler this kernel has and refuses twos with a typed error naming the kernel', async () => {
    await k.flush();
    const services = KERNEL_6_1_SCHEDULERS.map((scheduler, i) => svc({ key: { ...tcp80, port: 1000 + i }, scheduler }));
    const results = await k.apply(services.map((service) => ({ op: 'addService', service })));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const dumped = (await k.dump()).services.map((s) => s.service.scheduler).sort();
    expect(dumped).toEqual([...KERNEL_6_1_SCHEDULERS].sort());
    for (const s of KERNEL_6_1_SCHEDULERS) expect(ipvsadm('-Ln')).toMatch(new RegExp(`\\s${s}\\b`));

    const err = await k.addService(svc({ key: { ...tcp80, port: 2000 }, scheduler: 'twos' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerUnavailableError);
    expect((err as SchedulerUnavailableError).scheduler).toBe('twos');
    expect((err as SchedulerUnavailableError).kernel).toBe(release());
    expect((err as Error).message).toContain(release());
  });

  it('returns the errno the in-memory double predicts, op for op', async () => {
    await k.flush();
    const v6dst = dst({ address: '2001:db8:1::9', forward: 'masq' });
    const ops: IpvsOp[] = [
      { op: 'addService', service: svc({ key: tcp80, scheduler: 'rr' }) },
      { op: 'addService', service: svc({ key: tcp80, scheduler: 'wrr' }) },
      { op: 'addDestination', key: tcp80, destination: dst({ address: '10.0.1.2' }) },
      { op: 'addDestination', key: tcp80, destination: dst({ address: '10.0.1.2', weight: 5 }) },
      { op: 'addDestination', key: tcp80, destination: dst({ address: '10.0.1.3', lowerThreshold: 9, upperThreshold: 3 }) },
      { op: 'addDestination', key: tcp80, destination: dst({ address: '10.0.1.3', forward: 'tunnel', tunnelType: 'gue' }) },
      { op: 'addDestination', key: tcp80, destination: v6dst },
      { op: 'editDestination', key: tcp80, destination: dst({ address: '10.0.1.8' }) },
      { op: 'deleteDestination', key: tcp80, destination: { address: '10.0.1.8', port: 80 } },
      { op: 'addDestination', key: udp6, destination: v6dst },
      { op: 'editService', service: svc({ key: udp6, scheduler: 'rr' }) },
      { op: 'deleteService', key: fw4 },
      { op: 'zero', key: fw6 },
      { op: 'zero' },
      { op: 'deleteService', key: tcp80 },
      { op: 'deleteService', key: tcp80 },
    ];
    const kernel = (await k.apply(ops)).map((r) => (r.ok ? 'ok' : r.error.errno));
    const double = (await new InMemoryIpvs().apply(ops)).map((r) => (r.ok ? 'ok' : r.error.errno));
    expect(kernel).toEqual(['ok', 'EEXIST', 'ok', 'EEXIST', 'ERANGE', 'EINVAL', 'EINVAL', 'ENOENT', 'ENOENT', 'ESRCH', 'ESRCH', 'ESRCH', 'ESRCH', 'ok', 'ok', 'ESRCH']);
    expect(double).toEqual(kernel);
  });

  it('starts, lists and stops sync daemons as ipvsadm --start-daemon does', async () => {
    await k.flush();
    await k.startDaemon({ state: 'master', interface: 'd0', syncId: 5 });
    await k.startDaemon({ state: 'backup', interface: 'd0', syncId: 6 });
    const listed = await k.listDaemons();
    expect(listed.map((d) => [d.state, d.interface, d.syncId])).toEqual([
      ['master', 'd0', 5],
      ['backup', 'd0', 6],
    ]);
    const shown = ipvsadm('-L', '--daemon');
    expect(shown).toMatch(/master sync daemon \(mcast=d0, syncid=5/);
    expect(shown).toMatch(/backup sync daemon \(mcast=d0, syncid=6/);
    expect((await k.startDaemon({ state: 'master', interface: 'd0', syncId: 8 }).catch((e: { errno?: string }) => e.errno)) ?? 'ok').toBe('EEXIST');
    await k.stopDaemon('master');
    await k.stopDaemon('backup');
    expect((await k.stopDaemon('master').catch((e: { errno?: string }) => e.errno)) ?? 'ok').toBe('ESRCH');
    ipvsadm('--start-daemon', 'master', '--mcast-interface', 'd0', '--syncid', '7');
    expect((await k.listDaemons()).map((d) => [d.state, d.syncId])).toEqual([['master', 7]]);
    ipvsadm('--stop-daemon', 'master');
    expect(await k.listDaemons()).toEqual([]);
  });

  it('counts real connections (64-bit counters), as ipvsadm --stats does, and zeroes them', async () => {
    await k.flush();
    // Debian's static busybox wget crashes in the guest, so both ends are small node scripts.
    httpd = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', SERVER], { stdio: 'ignore' });
    const vip: IpvsServiceKey = { kind: 'addr', protocol: 'tcp', address: '10.0.2.1', port: 80 };
    await k.addService(svc({ key: vip, scheduler: 'rr' }));
    await k.addDestination(vip, dst({ address: '10.0.2.1', forward: 'local' }));
    const served = Number(inNs(CLI, process.execPath, '-e', CLIENT, '5').trim());
    expect(served).toBe(5);
    const d = await settled();
    expect(d?.stats.conns).toBeGreaterThanOrEqual(5n);
    expect(d?.stats.inPackets).toBeGreaterThan(d?.stats.conns ?? 0n);
    expect(d?.stats.inBytes).toBeGreaterThan(0n);
    expect(d?.destinations[0]?.stats.conns).toBe(d?.stats.conns);
    const stats = ipvsadm('-Ln', '--stats', '--exact');
    expect(stats).toMatch(new RegExp(`TCP\\s+10\\.0\\.2\\.1:80\\s+${d?.stats.conns}\\s+${d?.stats.inPackets}\\s`));

    await k.zero(vip);
    const z = (await k.dump()).services[0];
    expect([z?.stats.conns, z?.stats.inPackets, z?.destinations[0]?.stats.conns]).toEqual([0n, 0n, 0n]);
    expect(ipvsadm('-Ln', '--stats', '--exact')).toMatch(/TCP\s+10\.0\.2\.1:80\s+0\s+0\s+0\s+0\s+0/);
    expect(inNs(CLI, process.execPath, '-e', CLIENT, '1').trim()).toBe('1');
    expect((await settled())?.stats.conns).toBe(1n);
    await k.zero();
    expect((await k.dump()).services[0]?.stats.conns).toBe(0n);
    httpd.kill();
    httpd = undefined;
  });

  it('loads 200 services x 5 destinations through apply() and dumps them back', async () => {
    await k.flush();
    const services = Array.from({ length: 200 }, (_, i) =>
      svc({
        key: { kind: 'addr', protocol: 'tcp', address: `10.1.${i >> 8}.${i & 255}`, port: 80 },
        scheduler: 'wlc',
        destinations: Array.from({ length: 5 }, (_, j) => dst({ address: `10.0.1.${10 + j}`, weight: j + 1 })),
      }),
    );
    const results = await k.apply(opsFor(services));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(ipvsadm('-Ln').split('\n').filter((l) => l.includes('->') && l.includes('Route')).length).toBe(1000);
    expect(sorted(dumpToTable(await k.dump()).services)).toEqual(sorted(services.map(canonicalService)));
    await k.flush();
    expect((await k.dump()).services).toEqual([]);
  });
});
