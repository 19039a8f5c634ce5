import { replicationCluster } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { ReplicationOverlay } from './replication.js';

const cluster = (readPool: boolean) =>
  replicationCluster.parse({
    kind: 'replication-cluster',
    id: 'db',
    engine: 'mariadb',
    credentials: { user: 'monitor' },
    nodes: [
      { name: 'db1', address: '10.0.2.1', port: 3306, role: 'primary' },
      { name: 'db2', address: '10.0.2.2', port: 3306, role: 'replica' },
      { name: 'db3', address: '10.0.2.3', port: 3306, role: 'replica' },
    ],
    ...(readPool ? { readPool: { virtualService: 'db-read' } } : {}),
    monitorHosts: ['data1'],
  });

describe('ReplicationOverlay', () => {
  it('a lagging, broken or unreachable replica of a read pool is listed; ok replicas, primaries and pool-less clusters are not', () => {
    const o = new ReplicationOverlay();
    o.setCluster(cluster(true));
    expect(o.report({ cluster: 'db', node: 'db2', state: 'lagging' })).toBe(true);
    expect(o.report({ cluster: 'db', node: 'db2', state: 'lagging' })).toBe(false);
    o.report({ cluster: 'db', node: 'db3', state: 'ok' });
    o.report({ cluster: 'db', node: 'db1', state: 'unreachable' });
    expect(o.lagging()).toEqual([{ virtualService: 'db-read', address: '10.0.2.2', port: 3306 }]);
    o.report({ cluster: 'db', node: 'db3', state: 'broken' });
    expect(o.lagging().map((s) => s.address)).toEqual(['10.0.2.2', '10.0.2.3']);
    o.report({ cluster: 'db', node: 'db2', state: 'ok' });
    expect(o.lagging().map((s) => s.address)).toEqual(['10.0.2.3']);
    o.setCluster(cluster(false));
    expect(o.lagging()).toEqual([]);
    o.setCluster(cluster(true));
    o.deleteCluster('db');
    expect(o.lagging()).toEqual([]);
  });
});
