import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTopology, TopologyBuildError, type Topology } from './build.js';
import { seedsAddresses as a, seedsTopology } from './shapes.js';

// Runs on the host: namespaces, veth and bridges need no IPVS. The prefix keeps the namespaces
// apart from anyone else's on this machine.
const prefix = `lt${process.pid}-`;
const ns = (node: string) => `/run/netns/${prefix}${node}`;

// A tiny TCP server: node is on every machine the lab runs on, nginx may be busy elsewhere.
const server = (port: number) => [
  process.execPath,
  '-e',
  // A probe that connects and closes at once resets the connection: not an error here.
  `require('net').createServer((s) => s.on('error', () => {}).end('hi\\n')).listen(${port}, () => console.log('listening'))`,
];

describe('buildTopology on the host', () => {
  let t: Topology;

  beforeAll(async () => {
    t = await buildTopology(seedsTopology({ prefix }));
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('connects the nodes on one segment, with the addresses of the spec', async () => {
    const p = t.spawn('rs1', server(8080), { name: 'server' });
    await p.waitForListen(8080);
    await t.waitForTcp('client', a.rs1, 8080, 10_000);
    expect((await t.exec('rs1', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout).toContain(`${a.vip}/32`);
    expect(t.address('rs2')).toBe(a.rs2);
    expect((await t.sh('rs1', 'cat /proc/sys/net/ipv4/conf/eth0/arp_ignore')).stdout.trim()).toBe('1');
    expect(p.output()).toBe('listening\n');
  });

  it('refuses to build over namespaces that exist', async () => {
    await expect(buildTopology(seedsTopology({ prefix }))).rejects.toThrow(
      new TopologyBuildError(
        `namespaces ${prefix}switch, ${prefix}client, ${prefix}director1, ${prefix}director2, ${prefix}rs1, ${prefix}rs2 already exist: ` +
          'another topology with the same prefix is up, or one was not torn down (`ip netns del <name>`)',
      ),
    );
  });

  it('reports a process that exits before it listens, with its output', async () => {
    const p = t.spawn('rs2', ['sh', '-c', 'echo cannot bind >&2; exit 4'], { name: 'broken' });
    await expect(p.waitForListen(80, 5_000)).rejects.toThrow(/^broken \(pid \d+ in lt\d+-rs2\) exited \(exit 4\) before listening on port 80; its output:\ncannot bind$/);
  });

  it('gives up waiting for a port nobody listens on', async () => {
    await expect(t.waitForTcp('client', a.rs2, 9, 500)).rejects.toThrow(`client cannot connect to ${a.rs2}:9 within 500 ms`);
  });
});

describe('topology teardown and failed builds', () => {
  it('stops spawned and stray processes and removes every namespace', async () => {
    const t = await buildTopology(seedsTopology({ prefix: `${prefix}x` }));
    const spawned = t.spawn('client', ['sleep', '600']);
    // A daemon that detaches from the caller: teardown must find it through its namespace.
    await t.sh('rs1', 'setsid sleep 600 >/dev/null 2>&1 < /dev/null &');
    await t.teardown();
    expect(spawned.running).toBe(false);
    for (const node of ['switch', 'client', 'rs1']) expect(existsSync(ns(`x${node}`))).toBe(false);
    expect(t.logs()).toContain(`--- sleep in ${prefix}xclient`);
  });

  it('removes what it made when a step fails, and says which', async () => {
    const bad = seedsTopology({ prefix: `${prefix}y` });
    bad.nodes[0]?.routes.push({ to: '10.98.0.0/16', via: '10.97.0.1' }); // a gateway on no attached subnet
    const err = await buildTopology(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopologyBuildError);
    expect((err as Error).message).toMatch(/^building the topology failed: .*Nexthop has invalid gateway.*topology: configuring client failed$/s);
    expect(existsSync(ns('yswitch'))).toBe(false);
    expect(existsSync(ns('yclient'))).toBe(false);
  });
});
