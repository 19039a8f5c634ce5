import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, openStore } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import { buildTopology, httpGetMany, modprobe, requireLab, startNginx, tally, type Topology } from '@fulcrum/lab';
import { appBin, startBin, type RunningBin } from '@fulcrum/runtime/testing';
import { desiredBucket, virtualService } from '@fulcrum/schemas';
import type { DesiredObject } from '@fulcrum/schemas';
import type { Store } from '@fulcrum/bus';
import { type NatsServer, eventually, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';

// The agent as deployed: real processes (one director, one per real server) following the desired
// state in a real NATS, programming a real kernel. Client, director and real servers are network
// namespaces on one segment; the agents run beside NATS and reach into the namespaces (netns config).
// The real servers start bare: the real-server role puts the VIPs on lo and sets the ARP sysctls.

const A = { client: '10.99.0.10', director: '10.99.0.11', rs1: '10.99.0.21', rs2: '10.99.0.22', drVip: '10.99.0.100', tunVip: '10.99.0.101' };
const node = (name: string, address: string, extra: string[] = [], sysctls: Record<string, number> = {}) => ({
  name,
  interfaces: [{ name: 'eth0', segment: 'lan', addresses: [`${address}/24`, ...extra] }],
  sysctls,
});
// Reverse-path filtering as real servers come: rs1 strict on all (RHEL-like), rs2 loose on each
// device (Debian's systemd). A TUN real server must end up with none on tunl0, and no other device
// may lose the filter it had.
const strictAll = { 'net.ipv4.conf.all.rp_filter': 1 };
const looseDevices = { 'net.ipv4.conf.default.rp_filter': 2, 'net.ipv4.conf.eth0.rp_filter': 2, 'net.ipv4.conf.tunl0.rp_filter': 2 };

const web = virtualService.parse({
  kind: 'virtual-service',
  id: 'web',
  match: { kind: 'address', protocol: 'tcp', address: A.drVip, port: 80 },
  scheduler: 'wrr',
  forwarding: 'dr',
  realServers: [
    { address: A.rs1, port: 80, weight: 3 },
    { address: A.rs2, port: 80, weight: 1 },
  ],
});
const tun = virtualService.parse({
  kind: 'virtual-service',
  id: 'tun',
  match: { kind: 'address', protocol: 'tcp', address: A.tunVip, port: 80 },
  scheduler: 'wrr',
  forwarding: 'tun',
  realServers: [
    { address: A.rs1, port: 80, weight: 2 },
    { address: A.rs2, port: 80, weight: 1 },
  ],
});

describe('ipvs-agent processes: director and real servers', () => {
  let t: Topology;
  let nats: NatsServer;
  let admin: Bus;
  let desired: Store<DesiredObject>;
  const agents: RunningBin[] = [];
  const base = () => ({ FULCRUM_NATS__SERVERS: nats.url, FULCRUM_STATUS__PORT: '0', FULCRUM_LOG__LEVEL: 'info' });
  const startDirector = () =>
    startBin(appBin('ipvs-agent'), ['--role', 'director'], {
      env: { ...base(), FULCRUM_HOST: 'director1', FULCRUM_DIRECTOR__NETNS: t.ns('director1'), FULCRUM_DIRECTOR__DRIFT_CHECK_INTERVAL: '1' },
    });
  const ipvsadmSave = () => execFileSync('ip', ['netns', 'exec', t.ns('director1'), 'ipvsadm-save', '-n'], { encoding: 'utf8' });
  const loAddresses = (n: string) => execFileSync('ip', ['-n', t.ns(n), '-br', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  const rpFilter = (n: string) =>
    execFileSync('ip', ['netns', 'exec', t.ns(n), 'sysctl', '-n', ...['all', 'eth0', 'tunl0'].map((d) => `net.ipv4.conf.${d}.rp_filter`)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .join(' ');

  beforeAll(async () => {
    requireLab();
    await modprobe('ip_vs', 'ip_vs_wrr', 'ipip');
    t = await buildTopology({
      prefix: 'ib-',
      segments: ['lan'],
      nodes: [node('client', A.client), node('director1', A.director, [`${A.drVip}/32`, `${A.tunVip}/32`]), node('rs1', A.rs1, [], strictAll), node('rs2', A.rs2, [], looseDevices)],
    });
    nats = await startNats({ jetstream: true });
    // The guest is slow: give KV operations time.
    admin = await connectBus({ servers: nats.url, name: 'spec', timeoutMs: 30_000 });
    desired = await openStore(admin, desiredBucket);
    await desired.put('vs.web', web);
    await desired.put('vs.tun', tun);
    await Promise.all([startNginx(t, 'rs1', { body: 'rs1' }), startNginx(t, 'rs2', { body: 'rs2' })]);
    // One at a time: the first start compiles the sources (tsx caches them), the others reuse that.
    const waitStarted = async (agent: RunningBin, name: string) => {
      try {
        await agent.waitForLine((l) => l.msg === 'started', 280_000);
      } catch (err) {
        throw new Error(`${name} did not start: ${(err as Error).message}\n${agent.lines.map((l) => JSON.stringify(l)).join('\n')}`, { cause: err });
      }
    };
    agents.push(startDirector());
    await waitStarted(agents[0] as RunningBin, 'director');
    for (const rs of ['rs1', 'rs2']) {
      const state = join(mkdtempSync(join(tmpdir(), `ipvs-agent-${rs}-`)), 'state.json');
      const agent = startBin(appBin('ipvs-agent'), ['--role', 'realserver'], {
        env: { ...base(), FULCRUM_HOST: rs, FULCRUM_REAL_SERVER__NETNS: t.ns(rs), FULCRUM_REAL_SERVER__STATE_PATH: state },
      });
      agents.unshift(agent);
      await waitStarted(agent, rs);
    }
  }, 900_000);
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await admin?.close();
    await nats?.dispose();
    await t?.teardown();
  });

  it('programs DR and TUN services, the real servers hold the VIPs and tunl0, and DR and TUN traffic follow the weights', async () => {
    onTestFailed(() => console.error(t.logs(), agents.map((a) => JSON.stringify(a.lines.slice(-20))).join('\n')));
    await eventually('the director holds both services', async () => (ipvsadmSave().split('\n').filter((l) => l.startsWith('-a')).length === 4 ? true : undefined), 60_000);
    for (const rs of ['rs1', 'rs2']) {
      await eventually(`${rs} holds both VIPs on lo`, async () => (loAddresses(rs).includes(A.drVip) && loAddresses(rs).includes(A.tunVip) ? true : undefined), 60_000);
      expect(execFileSync('ip', ['netns', 'exec', t.ns(rs), 'sysctl', '-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce'], { encoding: 'utf8' })).toBe('1\n2\n');
      expect(execFileSync('ip', ['-n', t.ns(rs), '-br', 'link', 'show', 'tunl0'], { encoding: 'utf8' })).toMatch(/UP|UNKNOWN/);
    }
    // all, eth0, tunl0: none on tunl0 (loose mode drops there too: it has no address), eth0 as filtered as before.
    expect(rpFilter('rs1')).toBe('0 1 0');
    expect(rpFilter('rs2')).toBe('0 2 0');
    expect(tally(await httpGetMany(t, 'client', `http://${A.drVip}/`, 40))).toEqual({ rs1: 30, rs2: 10 });
    expect(tally(await httpGetMany(t, 'client', `http://${A.tunVip}/`, 30))).toEqual({ rs1: 20, rs2: 10 });
  });

  it('repairs a weight changed by hand at the next drift check', async () => {
    const good = ipvsadmSave();
    execFileSync('ip', ['netns', 'exec', t.ns('director1'), 'ipvsadm', '-e', '-t', `${A.drVip}:80`, '-r', `${A.rs1}:80`, '-g', '-w', '9']);
    // No check that the edit is visible: with a 1 s drift check the agent may repair it first.
    await eventually('the drift is repaired', async () => (ipvsadmSave() === good ? true : undefined), 30_000);
    // The log line may still be in the pipe: wait for it rather than look once.
    const director = agents.at(-1) as RunningBin;
    await director.waitForLine((l) => l.msg === 'kernel table changed outside the agent' && l.change === 'editDestination', 30_000);
  });

  it('a restarted director makes no kernel writes', async () => {
    const before = ipvsadmSave();
    const old = agents.pop() as RunningBin; // the director is last
    expect(await old.stop()).toEqual({ code: 0, signal: null });
    const again = startDirector();
    agents.push(again);
    const started = await again.waitForLine((l) => l.msg === 'started', 280_000);
    await again.waitForLine((l) => l.msg === 'adopted the kernel table', 60_000);
    // Give it time to read the desired state and run its first pass.
    await new Promise((r) => setTimeout(r, 3000));
    const metrics = await (await fetch(`${started.status as string}/metrics`)).text();
    expect(metrics).not.toMatch(/fulcrum_ipvs_writes_total\{/);
    expect(again.lines.some((l) => l.msg === 'kernel table updated')).toBe(false);
    expect(ipvsadmSave()).toBe(before);
  });

  it('a service removed from the desired state leaves the director and the real servers', async () => {
    await desired.delete('vs.tun');
    await eventually('the TUN service is gone', async () => (!ipvsadmSave().includes(A.tunVip) ? true : undefined), 30_000);
    for (const rs of ['rs1', 'rs2']) {
      await eventually(`${rs} dropped the TUN VIP`, async () => (!loAddresses(rs).includes(A.tunVip) ? true : undefined), 30_000);
      expect(loAddresses(rs)).toContain(A.drVip);
    }
    // What the agent changed for TUN is back as it was (written just after the VIP left: wait).
    await eventually('rs1 has strict rp_filter on all again', async () => (rpFilter('rs1') === '1 0 0' ? true : undefined), 30_000);
    await eventually('rs2 has loose rp_filter on tunl0 again', async () => (rpFilter('rs2') === '0 2 2' ? true : undefined), 30_000);
    expect(tally(await httpGetMany(t, 'client', `http://${A.drVip}/`, 8))).toEqual({ rs1: 6, rs2: 2 });
  });
});
