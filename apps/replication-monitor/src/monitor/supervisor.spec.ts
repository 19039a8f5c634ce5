import { replicationCluster } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { sentinelFor } from './supervisor.js';

const cluster = (engine: 'redis' | 'mariadb', sentinel?: object) =>
  replicationCluster.parse({
    kind: 'replication-cluster',
    id: 'sessions',
    engine,
    nodes: [
      { name: 'r1', address: '10.0.3.1', port: 6379, role: 'primary' },
      { name: 'r2', address: '10.0.3.2', port: 6379, role: 'replica' },
    ],
    ...(engine === 'mariadb' ? { credentials: { user: 'repmon' } } : {}),
    ...(sentinel ? { sentinel } : {}),
    monitorHosts: ['data1'],
  });

describe('sentinelFor', () => {
  const fromConfig = { sessions: { masterName: 'old', nodes: [{ address: '10.0.3.8', port: 26379 }] } };

  it("the cluster's own Sentinel group wins over the monitor config's; the config's is used when the cluster names none", () => {
    const own = cluster('redis', { masterName: 'sessions', sentinels: [{ address: '10.0.3.9' }], sentinelPassword: 'pw' });
    expect(sentinelFor(own, fromConfig)).toEqual({ masterName: 'sessions', nodes: [{ address: '10.0.3.9', port: 26379 }], password: 'pw' });
    expect(sentinelFor(cluster('redis'), fromConfig)).toEqual(fromConfig.sessions);
    expect(sentinelFor(cluster('redis'), {})).toBeUndefined();
  });

  it('MySQL/MariaDB clusters never ask a Sentinel', () => {
    expect(sentinelFor(cluster('mariadb'), fromConfig)).toBeUndefined();
  });
});
