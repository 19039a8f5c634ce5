import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  buildTopology,
  httpGetMany,
  loadedModules,
  modprobe,
  requireLab,
  seedsAddresses as a,
  seedsTopology,
  startNginx,
  tally,
  type Topology,
} from './index.js';

// The first kernel specs prove the lab is a real test bed: Debian's kernel with IPVS, the seeds'
// topology, and LVS-DR forwarding that follows the wrr weights, checked with Debian's ipvsadm.

/** 10.99.0.100:80 as /proc/net/ip_vs prints it: 0A630064:0050. */
function procHex(ip: string, port: number): string {
  const hex = ip
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
  return `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

describe('the lab kernel', () => {
  beforeAll(() => requireLab());

  it('is a Debian kernel that loads IPVS with modprobe', async () => {
    expect(readFileSync('/proc/version', 'utf8')).toMatch(/Debian/);
    await modprobe('ip_vs');
    expect(loadedModules()).toContain('ip_vs');
    expect(readFileSync('/proc/net/ip_vs', 'utf8')).toMatch(/^IP Virtual Server version 1\.2\.1/);
  });
});

describe('LVS-DR in the seeds topology', () => {
  let t: Topology;
  const service = `${a.vip}:80`;

  beforeAll(async () => {
    requireLab();
    await modprobe('ip_vs', 'ip_vs_wrr');
    t = await buildTopology(seedsTopology());
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('shows a service added with ipvsadm in the director namespace\'s /proc/net/ip_vs', async () => {
    await t.exec('director2', ['ipvsadm', '-A', '-t', service, '-s', 'rr']);
    await t.exec('director2', ['ipvsadm', '-a', '-t', service, '-r', `${a.rs1}:80`, '-g', '-w', '2']);
    const table = (await t.exec('director2', ['cat', '/proc/net/ip_vs'])).stdout;
    expect(table).toMatch(new RegExp(`^TCP  ${procHex(a.vip, 80)} rr\\s*$`, 'm'));
    expect(table).toMatch(new RegExp(`^  -> ${procHex(a.rs1, 80)}\\s+Route\\s+2\\s`, 'm'));
    // Each namespace has its own table: director1's is still empty.
    expect((await t.exec('director1', ['cat', '/proc/net/ip_vs'])).stdout).not.toMatch(/^TCP/m);
  });

  it('forwards 100 requests from the client to rs1 and rs2 in the ratio of their wrr weights (3:1)', async () => {
    onTestFailed(() => console.error(t.logs()));
    await Promise.all([startNginx(t, 'rs1', { body: 'rs1' }), startNginx(t, 'rs2', { body: 'rs2' })]);
    await t.sh(
      'director1',
      [
        `ipvsadm -A -t ${service} -s wrr`,
        `ipvsadm -a -t ${service} -r ${a.rs1}:80 -g -w 3`,
        `ipvsadm -a -t ${service} -r ${a.rs2}:80 -g -w 1`,
      ].join(' && '),
    );

    const bodies = await httpGetMany(t, 'client', `http://${a.vip}/`, 100);

    expect(tally(bodies)).toEqual({ rs1: 75, rs2: 25 });
    // The director scheduled every one of them: its connection table holds 100 entries.
    const conns = (await t.exec('director1', ['ipvsadm', '-L', '-n', '-c'])).stdout;
    const to = (rs: string) => conns.split('\n').filter((l) => l.includes(`${a.vip}:80`) && l.includes(`${rs}:80`)).length;
    expect({ rs1: to(a.rs1), rs2: to(a.rs2) }).toEqual({ rs1: 75, rs2: 25 });
  });
});
