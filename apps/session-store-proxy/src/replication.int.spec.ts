// Replication mode end to end: a real NATS with JetStream, a Redis master and replica, the real
// replication-monitor (its bin, as a process) and proxies that follow the master it reports. The replica is
// promoted by hand (REPLICAOF NO ONE, the old master REPLICAOF the new one) during a bounded write loop.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, connectBus, openStore } from '@fulcrum/bus';
import { desiredBucket, replicationCluster, statusBucket } from '@fulcrum/schemas';
import { type ManagedServer, type NatsServer, type RedisServer, eventually, freePort, makeTempDir, memoryLogger, startNats, startProcess, startRedis, startTcpProxy } from '@fulcrum/testing';
import type { TcpProxy } from '@fulcrum/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusReplicationFeed } from './replication-feed.js';
import type { ReplicationFeed, ReplicationSink } from './replication-master.js';
import { type TestProxy, startTestProxy, startWriteLoop } from './testing/index.js';

const MONITOR_BIN = fileURLToPath(new URL('../../replication-monitor/bin/replication-monitor.mjs', import.meta.url));
const port = (url: string) => Number(new URL(url).port);
const upstream = { mode: 'replication' as const, replicationCluster: 'sessions' };

// The proxies connect as the session-store-proxy user with the permissions deploy/nats/accounts.conf gives it
// (read from the file), so a permission replication mode needs and the deployment lacks fails here.
function deployedPermissions(user: string): { publish: string[]; subscribe: string[] } {
  const conf = readFileSync(fileURLToPath(new URL('../../../deploy/nats/accounts.conf', import.meta.url)), 'utf8').replace(/#.*$/gm, '');
  const block = conf.slice(conf.indexOf(`user: ${user},`));
  const allow = (verb: string) => {
    const m = new RegExp(`${verb}:\\s*\\{\\s*allow:\\s*\\[([^\\]]*)\\]`).exec(block);
    if (!m) throw new Error(`deploy/nats/accounts.conf: no ${verb} allow list for ${user}`);
    return [...(m[1] as string).matchAll(/"([^"]+)"/g)].map((x) => x[1] as string);
  };
  return { publish: allow('publish'), subscribe: allow('subscribe') };
}
const proxyUser = { user: 'session-store-proxy', password: 'spec-proxy-password', ...deployedPermissions('session-store-proxy') };
const admin = { user: 'spec', password: 'spec-admin-password' };
let proxyBus: Bus;
/** The proxies' NATS link goes through this, so a test can take it away while the monitor's stays. */
let proxyNatsLink: TcpProxy;

let nats: NatsServer;
let bus: Bus;
let r1: RedisServer;
let r2: RedisServer;
let monitor: ManagedServer | null = null;
const proxies: TestProxy[] = [];
/** The proxies fed from the bus (the others are driven by hand). */
const following: TestProxy[] = [];

/** The real replication-monitor, following the desired state (the cluster lists its host, data1). */
async function startMonitor(): Promise<ManagedServer> {
  const dir = makeTempDir('replication-monitor');
  const statusPort = await freePort('127.0.0.1');
  const config = join(dir, 'replication-monitor.yaml');
  writeFileSync(
    config,
    // JSON is YAML too.
    JSON.stringify({ host: 'data1', nats: { servers: [nats.url], ...admin }, status: { address: '127.0.0.1', port: statusPort }, log: { level: 'info' }, heartbeat: { intervalMs: 200 } }),
  );
  return startProcess({
    name: 'replication-monitor',
    command: process.execPath,
    args: [MONITOR_BIN, '--config', config],
    dir,
    host: '127.0.0.1',
    port: statusPort,
    // tsx compiles the monitor on its first start: slow on a crowded 2-core host.
    readyTimeoutMs: 90_000,
  });
}

const proxyFor = async (commandTimeoutMs: number) => {
  const feed = new BusReplicationFeed(proxyBus, 'sessions', memoryLogger('warn').logger, 200);
  const p = await startTestProxy(upstream, { commandTimeoutMs, replicationFeed: feed });
  proxies.push(p);
  following.push(p);
  return p;
};

beforeAll(async () => {
  nats = await startNats({ jetstream: true, auth: { users: [admin, proxyUser] } });
  bus = await connectBus({ servers: nats.url, name: 'spec', auth: { user: admin.user, pass: admin.password } });
  proxyNatsLink = await startTcpProxy({ port: port(nats.url) });
  proxyBus = await connectBus({ servers: `nats://127.0.0.1:${proxyNatsLink.port}`, reconnectWaitMs: 200, name: 'session-store-proxy@web1', auth: { user: proxyUser.user, pass: proxyUser.password } });
  r1 = await startRedis();
  r2 = await startRedis({ args: ['--replicaof', '127.0.0.1', String(port(r1.url))] });
  const m = new Redis({ port: port(r1.url) });
  await eventually('replica attached', async () => /connected_slaves:1/.test(await m.info('replication')), 15_000);
  m.disconnect();
  const cluster = replicationCluster.parse({
    kind: 'replication-cluster',
    id: 'sessions',
    engine: 'redis',
    nodes: [
      { name: 'r1', address: '127.0.0.1', port: port(r1.url), role: 'primary' },
      { name: 'r2', address: '127.0.0.1', port: port(r2.url), role: 'replica' },
    ],
    checkInterval: 0.2,
    monitorHosts: ['data1'],
  });
  await (await openStore(bus, desiredBucket)).put('replication.sessions', cluster);
  clusterObject = cluster;
}, 60_000);
let clusterObject: ReturnType<typeof replicationCluster.parse>;

afterAll(async () => {
  for (const p of proxies) await p.close();
  await monitor?.dispose();
  await proxyBus?.close();
  await proxyNatsLink?.close();
  await bus?.close();
  await nats?.dispose();
  await r1?.dispose();
  await r2?.dispose();
});

/** The monitor's word by hand, without NATS. */
class HandFeed implements ReplicationFeed {
  sink: ReplicationSink | null = null;
  start(sink: ReplicationSink): void {
    this.sink = sink;
  }
  close(): void {
    this.sink = null;
  }
  primary(node: string, second: number): void {
    this.sink?.report({ time: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(), data: { cluster: 'sessions', node, role: 'primary', state: 'ok' } });
  }
}

describe('replication mode checks what the monitor names with ROLE', () => {
  it('a node that answers ROLE as a replica is not used; the next word that names the master is', async () => {
    const feed = new HandFeed();
    const p = await startTestProxy(upstream, { commandTimeoutMs: 1000, replicationFeed: feed });
    proxies.push(p);
    const client = new Redis({ port: p.port, maxRetriesPerRequest: 0 });
    try {
      feed.sink?.cluster(clusterObject);
      feed.primary('r2', 1); // a late or wrong word: r2 is a replica
      await eventually('r2 refused', () => /is not a master \(ROLE\)/.test(p.pool.lastError ?? ''), 10_000);
      expect(p.pool.connected).toBe(false);
      await expect(client.get('k')).rejects.toThrow(/^TRYAGAIN no upstream master within 1000 ms \(.*is not a master \(ROLE\)\); retry$/);
      feed.primary('r1', 2);
      await eventually('connected to r1', () => p.pool.connected && p.pool.master?.port === port(r1.url), 10_000);
      expect(await client.get('k')).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});

describe('session-store proxy following the replication-monitor', () => {
  let early: TestProxy;

  it('says why while no master is known, and connects once the monitor reports one', async () => {
    early = await proxyFor(1000);
    const client = new Redis({ port: early.port, maxRetriesPerRequest: 0 });
    try {
      // The cluster's configured primary (r1) is not taken on trust: the monitor has not spoken yet.
      await eventually('the cluster object read', () => /has not reported a primary/.test(early.pool.lastError ?? ''), 30_000);
      await expect(client.get('k')).rejects.toThrow(
        /^TRYAGAIN no upstream master within 1000 ms \(no master known: the replication-monitor has not reported a primary of cluster "sessions" yet\); retry$/,
      );
      expect(early.pool.connected).toBe(false);

      monitor = await startMonitor();
      await eventually('the proxy connected to r1', () => early.pool.connected && early.pool.master?.port === port(r1.url), 60_000);
      await client.set('k', 'v');
      const direct = new Redis({ port: port(r1.url) });
      expect(await direct.get('k')).toBe('v');
      direct.disconnect();
    } finally {
      client.disconnect();
    }
  }, 120_000);

  it('a proxy started after the monitor reported takes the master from the status bucket', async () => {
    const status = await openStore(bus, statusBucket);
    await eventually('r1 is primary in the status bucket', async () => {
      const snap = await status.readAll();
      return [...snap.entries.values()].some((e) => e.value.type === 'replication' && e.value.data.node === 'r1' && e.value.data.role === 'primary');
    }, 30_000);
    // The monitor publishes events on changes only, and nothing changes now: this one can learn it from the bucket alone.
    const late = await proxyFor(3000);
    await eventually('the late proxy connected to r1', () => late.pool.connected && late.pool.master?.port === port(r1.url), 30_000);
  }, 60_000);

  it('follows a promotion: new writes go to the new master, the errors meanwhile are retryable', async () => {
    const proxy = await proxyFor(3000);
    await eventually('connected', () => proxy.pool.connected, 30_000);
    const [p1, p2] = [port(r1.url), port(r2.url)];
    let promotedAt = 0;
    let movedAt = 0;
    const { result: res, done: loop } = startWriteLoop(proxy.port, { prefix: 'loop:', until: () => movedAt > 0 && Date.now() - movedAt > 2000, maxMs: 60_000 });
    await eventually('writes acknowledged before the promotion', () => res.acked.length >= 50, 30_000);

    const n1 = new Redis({ port: p1 });
    const n2 = new Redis({ port: p2 });
    try {
      promotedAt = Date.now();
      await n2.call('REPLICAOF', 'NO', 'ONE');
      await n1.call('REPLICAOF', '127.0.0.1', String(p2));
      await eventually('the proxy moved to r2', () => proxy.pool.connected && proxy.pool.master?.port === p2, 30_000);
      movedAt = Date.now();
      await loop;
      process.stderr.write(
        `replication failover: ${res.acked.length} acked, ${res.errors.length} errors, longest gap ${res.gapMs} ms, ` +
          `master moved ${movedAt - promotedAt} ms after the promotion${res.errors.length > 0 ? ` (first error: ${res.errors[0]})` : ''}\n`,
      );

      expect(movedAt - promotedAt).toBeLessThan(20_000);
      for (const e of res.errors) expect(e).toMatch(/^TRYAGAIN /);
      expect(proxy.pool.failovers).toBe(1);
      // A write after the switch lands on the new master; the old one, now its replica, refuses writes.
      const c = new Redis({ port: proxy.port, maxRetriesPerRequest: 0 });
      await c.set('after-switch', 'on-r2');
      const status = String(await c.call('PROXY', 'STATUS'));
      c.disconnect();
      expect(status).toMatch(/upstream_mode:replication\r\n/);
      expect(status).toMatch(new RegExp(`upstream_master:127.0.0.1:${p2}\r\nupstream_replication_cluster:sessions\r\nupstream_master_node:r2\r\n`));
      expect(await n2.get('after-switch')).toBe('on-r2');
      await expect(n1.set('direct', 'x')).rejects.toThrow(/READONLY/);
      // The proxies started earlier followed too.
      await eventually('every proxy on r2', () => following.every((p) => p.pool.master?.port === p2 && p.pool.connected), 30_000);
    } finally {
      n1.disconnect();
      n2.disconnect();
    }
  }, 120_000);

  it('a promotion reported while the proxies\' NATS link was away is taken from the status bucket when it is back', async () => {
    const [p1, p2] = [port(r1.url), port(r2.url)];
    await eventually('every proxy on r2', () => following.every((p) => p.pool.master?.port === p2 && p.pool.connected), 30_000);
    await proxyNatsLink.cut();
    await eventually('the proxies\' bus is disconnected', () => proxyBus.state === 'disconnected', 30_000);
    const n1 = new Redis({ port: p1 });
    const n2 = new Redis({ port: p2 });
    try {
      // Back to r1: its event is published while nobody on the proxies' side listens.
      await n1.call('REPLICAOF', 'NO', 'ONE');
      await n2.call('REPLICAOF', '127.0.0.1', String(p1));
      const status = await openStore(bus, statusBucket);
      await eventually('the monitor reported r1 as primary', async () => {
        const entries = [...(await status.readAll()).entries.values()];
        return entries.some((e) => e.value.type === 'replication' && e.value.data.node === 'r1' && e.value.data.role === 'primary');
      }, 30_000);
      expect(following.some((p) => p.pool.master?.port === p1)).toBe(false);
      await proxyNatsLink.restore();
      await eventually('every proxy back on r1', () => following.every((p) => p.pool.master?.port === p1 && p.pool.connected), 60_000);
    } finally {
      n1.disconnect();
      n2.disconnect();
    }
  }, 150_000);
});
