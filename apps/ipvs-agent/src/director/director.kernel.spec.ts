import { execFileSync } from 'node:child_process';
import { formatIpvsadmList, formatIpvsadmSave, parseIpvsadmRestore } from '@fulcrum/formats';
import type { IpvsControl } from '@fulcrum/netlink';
import { NetlinkIpvs, dumpToTable } from '@fulcrum/netlink';
import type { VirtualService } from '@fulcrum/schemas';
import { virtualService } from '@fulcrum/schemas';
import { buildTopology, httpGetMany, modprobe, natAddresses as a, natTopology, requireLab, startNginx, tally, type Topology } from '@fulcrum/lab';
import { memoryLogger } from '@fulcrum/testing';
import type { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { applyTable, dumpAsJson } from '../cli/commands.js';
import { CountingIpvs } from '../testing/counting-ipvs.js';
import { effectiveTable, noOverlays } from './effective.js';
import { Reconciler } from './reconciler.js';
import { toModel, toTable } from './table-model.js';

// The director's path against the real IPVS of the lab's kernel, with Debian's ipvsadm as the
// independent oracle of what the kernel holds. The NAT topology's director1 is the director.


const vs = (id: string, over: Partial<z.input<typeof virtualService>>): VirtualService =>
  virtualService.parse({ kind: 'virtual-service', id, match: { kind: 'address', protocol: 'tcp', address: '10.99.1.100', port: 80 }, ...over });

/** One virtual service per option the agent sets. */
const everyOption = (): VirtualService[] => [
  vs('dr-wrr', {
    scheduler: 'wrr',
    forwarding: 'dr',
    realServers: [
      { address: a.rs1, port: 80, weight: 3, upperThreshold: 100, lowerThreshold: 50 },
      { address: a.rs2, port: 80, weight: 1 },
    ],
  }),
  vs('udp-ops', { match: { kind: 'address', protocol: 'udp', address: '10.99.1.100', port: 53 }, scheduler: 'rr', onePacket: true, realServers: [{ address: a.rs1, port: 5353 }] }),
  vs('sh-persist', {
    match: { kind: 'address', protocol: 'tcp', address: '10.99.1.101', port: 443 },
    scheduler: 'sh',
    schedulerFlags: ['sh-fallback', 'sh-port'],
    persistenceTimeout: 300,
    persistencePrefix: 24,
    realServers: [{ address: a.rs2, port: 8443, weight: 2 }],
  }),
  vs('fwmark-tun', { match: { kind: 'fwmark', fwmark: 7 }, scheduler: 'wlc', forwarding: 'tun', realServers: [{ address: a.rs1, port: 0 }, { address: a.rs2, port: 0, weight: 4 }] }),
  vs('v6-mh', {
    match: { kind: 'address', protocol: 'tcp', address: '2001:db8:1::100', port: 80 },
    scheduler: 'mh',
    schedulerFlags: ['mh-port'],
    forwarding: 'dr',
    realServers: [{ address: '2001:db8:2::21', port: 80 }],
  }),
  vs('sip', { match: { kind: 'address', protocol: 'udp', address: '10.99.1.102', port: 5060 }, persistenceTimeout: 60, persistenceEngine: 'sip', realServers: [{ address: a.rs1, port: 5060 }] }),
  vs('gue', {
    match: { kind: 'address', protocol: 'tcp', address: '10.99.1.103', port: 80 },
    scheduler: 'lc',
    forwarding: 'tun',
    tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
    realServers: [{ address: a.rs2, port: 80 }],
  }),
];

describe('ipvs-agent director on the kernel', () => {
  let t: Topology;
  let ipvs: NetlinkIpvs;
  const ipvsadm = (...args: string[]) => execFileSync('ip', ['netns', 'exec', t.ns('director1'), 'ipvsadm', ...args], { encoding: 'utf8', timeout: 120_000 });
  const ipvsadmSave = () => execFileSync('ip', ['netns', 'exec', t.ns('director1'), 'ipvsadm-save', '-n'], { encoding: 'utf8', timeout: 120_000 });
  const reconciler = (control: IpvsControl, opts = {}) => new Reconciler({ ipvs: control, logger: memoryLogger('warn').logger, driftCheckMs: 0, ...opts });

  beforeAll(async () => {
    requireLab();
    await modprobe('ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_wlc', 'ip_vs_lc', 'ip_vs_sh', 'ip_vs_mh', 'ip_vs_pe_sip');
    t = await buildTopology(natTopology({ prefix: 'ia-' }));
    // Destinations must be routable from the director: give it an IPv6 leg on the private side.
    await t.sh('director1', 'ip -6 addr add 2001:db8:2::1/64 dev eth1 nodad && ip -6 addr add 2001:db8:1::1/64 dev eth0 nodad');
    ipvs = await NetlinkIpvs.open({ netns: t.ns('director1') });
  });
  afterAll(async () => {
    await ipvs?.close();
    await t?.teardown();
  });
  beforeEach(() => {
    ipvsadm('-C');
  });

  it('every option the agent sets reads back the same through ipvsadm-save -n and ipvsadm -Ln', async () => {
    const services = everyOption();
    await reconciler(ipvs).setDesired(services, 1).then((r) => expect(r.failures).toEqual([]));
    const expected = toTable(effectiveTable(services, noOverlays()).table);
    expect(ipvsadmSave()).toBe(formatIpvsadmSave(expected));
    const info = await ipvs.info();
    const list = { ipvsVersion: info.version, connTableSize: info.connTableSize };
    expect(ipvsadm('-Ln', '--thresholds')).toBe(formatIpvsadmList(expected, { ...list, view: 'thresholds' }));
    expect(ipvsadm('-Ln', '--tun-info')).toBe(formatIpvsadmList(expected, { ...list, view: 'tun-info' }));
  });

  it('a table ipvsadm-restore loaded is what the agent reads: applying the same file changes nothing', async () => {
    const text = formatIpvsadmSave(toTable(effectiveTable(everyOption(), noOverlays()).table), { withThresholds: true });
    execFileSync('ip', ['netns', 'exec', t.ns('director1'), 'ipvsadm-restore'], { input: text, timeout: 120_000 });
    const dumped = dumpToTable(await ipvs.dump());
    expect(toModel(dumped)).toEqual(toModel(parseIpvsadmRestore(text).table));
    const counting = new CountingIpvs(ipvs);
    expect((await applyTable(counting.control(), parseIpvsadmRestore(text).table, false)).lines).toEqual(['# 0 added, 0 updated, 0 removed (0 operations)']);
    expect(counting.writes).toBe(0);
    expect(JSON.parse(dumpAsJson(await ipvs.dump())).services).toHaveLength(everyOption().length);
  });

  it('a restarted agent with 1,000 services loaded makes zero kernel writes', async () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      vs(`s${i}`, { match: { kind: 'address', protocol: 'tcp', address: `10.98.${i >> 8}.${i & 255}`, port: 80 }, scheduler: 'wrr', forwarding: 'dr', realServers: [{ address: a.rs1, port: 80, weight: 2 }, { address: a.rs2, port: 80 }] }),
    );
    const first = reconciler(ipvs);
    await first.start();
    expect((await first.setDesired(many, 1)).failures).toEqual([]);
    await first.stop();
    const before = ipvsadmSave();
    expect(before.split('\n').filter((l) => l.startsWith('-A'))).toHaveLength(1000);

    const reopened = await NetlinkIpvs.open({ netns: t.ns('director1') });
    try {
      const counting = new CountingIpvs(reopened);
      const again = reconciler(counting.control());
      await again.start();
      const r = await again.setDesired(many, 1);
      await again.stop();
      expect(r.ops).toEqual([]);
      expect(counting.writes).toBe(0);
      expect(ipvsadmSave()).toBe(before);
    } finally {
      await reopened.close();
    }
  });

  it('drift made with ipvsadm by hand is found by the drift check and repaired', async () => {
    const r = reconciler(ipvs);
    await r.start();
    await r.setDesired([everyOption()[0] as VirtualService], 1);
    const good = ipvsadmSave();
    ipvsadm('-e', '-t', '10.99.1.100:80', '-r', `${a.rs1}:80`, '-g', '-w', '9');
    ipvsadm('-d', '-t', '10.99.1.100:80', '-r', `${a.rs2}:80`);
    ipvsadm('-A', '-t', '10.99.1.200:80', '-s', 'rr');
    const fixed = await r.checkDrift();
    await r.stop();
    expect(fixed.ops.map((o) => o.op).sort()).toEqual(['addDestination', 'deleteService', 'editDestination']);
    expect(ipvsadmSave()).toBe(good);
  });

  it('NAT traffic through the VIP follows the weights the agent programs, and a drain moves all new connections', async () => {
    onTestFailed(() => console.error(t.logs()));
    await Promise.all([startNginx(t, 'rs1', { body: 'rs1' }), startNginx(t, 'rs2', { body: 'rs2' })]);
    const nat = vs('nat', { match: { kind: 'address', protocol: 'tcp', address: a.vip, port: 80 }, scheduler: 'wrr', forwarding: 'nat', realServers: [{ address: a.rs1, port: 80, weight: 3 }, { address: a.rs2, port: 80, weight: 1 }] });
    const r = reconciler(ipvs);
    await r.start();
    await r.setDesired([nat], 1);
    expect(tally(await httpGetMany(t, 'client', `http://${a.vip}/`, 40))).toEqual({ rs1: 30, rs2: 10 });
    expect(await r.drain({ virtualService: 'nat', address: a.rs1, port: 80 })).toMatchObject({ ok: true });
    expect(tally(await httpGetMany(t, 'client', `http://${a.vip}/`, 10))).toEqual({ rs2: 10 });
    await r.stop();
  });
});
