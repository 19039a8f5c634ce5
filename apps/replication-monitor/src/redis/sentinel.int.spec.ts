import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replicationCluster } from '@fulcrum/schemas';
import { eventually, freePort, makeTempDir, memoryLogger, startProcess, startRedis } from '@fulcrum/testing';
import type { ManagedServer, RedisServer } from '@fulcrum/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthChange } from '../monitor/cluster-monitor.js';
import { ReplicationSupervisor } from '../monitor/supervisor.js';

// A real Sentinel in front of a Redis master and replica, named by the cluster's `sentinel` group: the monitor
// takes the topology from it, and follows a failover Sentinel makes.

let master: RedisServer;
let replica: RedisServer;
let sentinel: ManagedServer;
beforeAll(async () => {
  master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  replica = await startRedis({ args: ['--repl-diskless-sync-delay', '0', '--replicaof', master.host, String(master.port)] });
  const dir = makeTempDir('sentinel');
  const port = await freePort('127.0.0.1');
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor spec 127.0.0.1 ${master.port} 1`, 'sentinel down-after-milliseconds spec 1000', 'sentinel failover-timeout spec 5000', ''].join('\n'),
  );
  sentinel = await startProcess({ name: 'redis-sentinel', command: 'redis-server', args: [conf, '--sentinel'], dir, host: '127.0.0.1', port });
});
afterAll(() => Promise.all([sentinel?.dispose(), master?.dispose(), replica?.dispose()]));

describe('Redis with Sentinel', () => {
  it('takes the primary from Sentinel and follows its failover', async () => {
    const changes: HealthChange[] = [];
    const supervisor = new ReplicationSupervisor({
      host: 'data1',
      heartbeat: { intervalMs: 100, table: 'fulcrum.heartbeat', redisKeyPrefix: 'fulcrum:heartbeat:' },
      sentinels: {},
      logger: memoryLogger().logger,
      onChange: (c) => void changes.push(c),
    });
    await supervisor.setClusters([
      replicationCluster.parse({
        kind: 'replication-cluster',
        id: 'sessions',
        engine: 'redis',
        nodes: [
          { name: 'r1', address: '127.0.0.1', port: master.port, role: 'primary' },
          { name: 'r2', address: '127.0.0.1', port: replica.port, role: 'replica' },
        ],
        checkInterval: 0.2,
        sentinel: { masterName: 'spec', sentinels: [{ address: '127.0.0.1', port: sentinel.port }] },
        monitorHosts: ['data1'],
      }),
    ]);
    const view = () => supervisor.monitor('sessions')?.current;
    try {
      await eventually('replica ok', () => view()?.nodes.get('r2')?.state === 'ok', 10_000);
      expect(view()?.primary).toBe('r1');
      const s = new Redis({ host: '127.0.0.1', port: sentinel.port, lazyConnect: true });
      try {
        await s.call('SENTINEL', 'FAILOVER', 'spec');
      } finally {
        s.disconnect();
      }
      const change = await eventually('primary change', () => changes.find((c) => c.primaryWas === 'r1' && c.health.node === 'r2'), 20_000);
      expect(change.health).toMatchObject({ node: 'r2', role: 'primary', state: 'ok' });
      await eventually('r1 a healthy replica of r2', () => view()?.nodes.get('r1')?.role === 'replica' && view()?.nodes.get('r1')?.state === 'ok', 20_000);
    } finally {
      await supervisor.stop();
    }
  });
});
