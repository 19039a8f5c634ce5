import { connectBus, openStore } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import { EVENT_SUBJECTS, desiredBucket, replicationCluster, statusBucket, statusKey } from '@fulcrum/schemas';
import type { EventOf, ReplicationCluster } from '@fulcrum/schemas';
import { eventually, memoryLogger, startNats, startRedis } from '@fulcrum/testing';
import type { NatsServer, RedisServer } from '@fulcrum/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicationLink } from '../bus-link.js';
import { ReplicationSupervisor } from '../monitor/supervisor.js';
import type { RoundReport } from '../monitor/cluster-monitor.js';

// A real Redis master and replica, watched through the desired state on a real NATS: the events and the status
// bucket are what other services see.

const HOST = 'data1';
let nats: NatsServer;
let bus: Bus;
let admin: Bus;
let master: RedisServer;
let replica: RedisServer;
const clients: Redis[] = [];
const cli = (s: RedisServer): Redis => {
  const c = new Redis({ host: s.host, port: s.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  [bus, admin] = await Promise.all([connectBus({ servers: nats.url, name: `replication-monitor@${HOST}` }), connectBus({ servers: nats.url, name: 'spec' })]);
  // No diskless delay: the first full sync is immediate.
  master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  replica = await startRedis({ args: ['--repl-diskless-sync-delay', '0', '--replicaof', master.host, String(master.port)] });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await bus?.close();
  await admin?.close();
  await Promise.all([nats?.dispose(), master?.dispose(), replica?.dispose()]);
});

describe('Redis master and replica on the bus', () => {
  let supervisor: ReplicationSupervisor;
  let link: ReplicationLink;
  const events: EventOf<'replication'>[] = [];
  const rounds: RoundReport[] = [];
  const lastOf = (node: string) => [...events].reverse().find((e) => e.data.node === node)?.data;
  const since = (n: number, node: string) => events.slice(n).filter((e) => e.data.node === node).map((e) => e.data);

  beforeAll(async () => {
    const cluster: ReplicationCluster = replicationCluster.parse({
      kind: 'replication-cluster',
      id: 'sessions',
      engine: 'redis',
      nodes: [
        { name: 'r1', address: '127.0.0.1', port: master.port, role: 'primary' },
        { name: 'r2', address: '127.0.0.1', port: replica.port, role: 'replica' },
      ],
      checkInterval: 0.2,
      lag: { warnSeconds: 0.3, maxSeconds: 1 },
      monitorHosts: [HOST],
    });
    const other = replicationCluster.parse({ ...cluster, id: 'elsewhere', monitorHosts: ['data2'] });
    const desired = await openStore(admin, desiredBucket);
    await desired.put('replication.sessions', cluster);
    await desired.put('replication.elsewhere', other);
    admin.subscribe(EVENT_SUBJECTS.replication, { host: HOST }, (e) => void events.push(e));
    await admin.flush();
    const { logger } = memoryLogger();
    let l: ReplicationLink | null = null;
    supervisor = new ReplicationSupervisor({
      host: HOST,
      heartbeat: { intervalMs: 50, table: 'fulcrum.heartbeat', redisKeyPrefix: 'fulcrum:heartbeat:' },
      sentinels: {},
      logger,
      onChange: (c) => l?.changed(c),
      onRound: (r) => {
        rounds.push(r);
        for (const h of r.view.nodes.values()) l?.current(r.cluster, h);
      },
      onRemoved: (c) => l?.removed(c),
    });
    l = new ReplicationLink({ host: HOST, logger, configClusters: [], followDesired: true, onClusters: (cs) => void supervisor.setClusters(cs) });
    link = l;
    link.start();
    await link.attach(bus);
    await eventually('the replica is seen ok', () => lastOf('r2')?.state === 'ok', 15_000);
  });
  afterAll(async () => {
    await supervisor?.stop();
    await link?.close();
  });

  it('watches only the clusters that name this host, publishes each node and keeps the status bucket', async () => {
    expect(supervisor.clusters).toEqual(['sessions']);
    expect(lastOf('r1')).toMatchObject({ cluster: 'sessions', role: 'primary', state: 'ok' });
    expect(lastOf('r2')).toMatchObject({ role: 'replica', state: 'ok', ioRunning: true, sqlRunning: null });
    const status = await openStore(bus, statusBucket);
    const entry = await eventually('status entry', async () => (await status.get(statusKey('replication', HOST, 'sessions', 'r2'))) ?? undefined);
    expect(entry.value).toMatchObject({ type: 'replication', data: { node: 'r2', state: 'ok' } });
  });

  it('sees the replica fall behind in offset bytes and heartbeat lag while it is paused, then catch up', async () => {
    const n = events.length;
    const m = cli(master);
    const r = cli(replica);
    await r.call('CLIENT', 'PAUSE', '2500', 'WRITE');
    const start = Date.now();
    for (let i = 0; i < 20; i++) await m.set(`k${i}`, 'x'.repeat(1000));
    // 20 values of 1000 bytes the paused replica has not processed.
    await eventually('offset lag', () => (rounds.at(-1)?.view.nodes.get('r2')?.offsetLagBytes ?? 0) > 20 * 1000, 2000);
    const lagging = await eventually('a lagging event', () => since(n, 'r2').find((d) => d.state === 'lagging'), 3000);
    expect(lagging.lagSeconds).toBeGreaterThan(1);
    expect(Date.now() - start).toBeLessThan(2500);
    const after = since(n, 'r2');
    const ok = await eventually('caught up', () => since(n, 'r2').slice(after.indexOf(lagging)).find((d) => d.state === 'ok'), 5000);
    // Hysteresis: back only once caught up to the warning level.
    expect(ok.lagSeconds).toBeLessThanOrEqual(0.3);
  });

  it('reports the link down when the master goes, and back when it returns', async () => {
    const n = events.length;
    await master.stop();
    const down = await eventually('link down', () => since(n, 'r2').find((d) => d.state === 'broken'), 5000);
    expect(down).toMatchObject({ ioRunning: false });
    expect(down.message).toMatch(/link to master 127\.0\.0\.1:\d+ down/);
    const gone = await eventually('master unreachable', () => since(n, 'r1').find((d) => d.state === 'unreachable'), 3000);
    expect(gone.message).toMatch(/cannot reach 127\.0\.0\.1:\d+|127\.0\.0\.1:\d+ did not answer in time/);
    await master.start();
    await eventually('link up again', () => since(n, 'r2').find((d) => d.state === 'ok'), 15_000);
    await eventually('master ok again', () => lastOf('r1')?.state === 'ok' && lastOf('r1')?.role === 'primary', 5000);
  });

  it('sees a master change made by hand, in the event of each node', async () => {
    const n = events.length;
    await cli(replica).call('REPLICAOF', 'NO', 'ONE');
    await cli(master).call('REPLICAOF', replica.host, String(replica.port));
    const promoted = await eventually('r2 primary', () => since(n, 'r2').find((d) => d.role === 'primary'), 5000);
    expect(promoted.message).toMatch(/^primary changed: r2 \(was r1\)/);
    const demoted = await eventually('r1 replica ok', () => since(n, 'r1').find((d) => d.role === 'replica' && d.state === 'ok'), 15_000);
    expect(demoted.message).toMatch(/replicating from r2/);
  });
});
